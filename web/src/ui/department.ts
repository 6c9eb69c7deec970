import { useTranslation } from 'react-i18next';

/** A department's name in the chosen language; an id the message files do not know is shown as it is. */
export function useDepartmentName(): (id: string) => string {
  const { t, i18n } = useTranslation();
  return (id: string) => (i18n.exists(`departments.${id}`) ? t(`departments.${id}`) : id);
}
