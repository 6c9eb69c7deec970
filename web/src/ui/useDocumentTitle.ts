import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';

/** The window's title names the page and the app, in the chosen language. */
export function useDocumentTitle(page: string): void {
  const { t } = useTranslation();
  const app = t('ui.appName');
  useEffect(() => {
    document.title = page ? `${page} – ${app}` : app;
  }, [page, app]);
}
