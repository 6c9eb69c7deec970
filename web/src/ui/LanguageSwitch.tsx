import { useTranslation } from 'react-i18next';
import { LANGUAGES, setLanguage } from '../i18n';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const current = i18n.resolvedLanguage ?? i18n.language;
  return (
    <label className="language-switch">
      <span>{t('ui.language')}</span>
      <select value={current} onChange={(event) => void setLanguage(event.target.value)}>
        {LANGUAGES.map((lang) => (
          <option key={lang} value={lang} lang={lang}>
            {t(`ui.languageName.${lang}`)}
          </option>
        ))}
      </select>
    </label>
  );
}
