import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t('ui.notFound')}</h1>
      <p>
        <Link to="/">{t('ui.home')}</Link>
      </p>
    </section>
  );
}
