import { useTranslation } from 'react-i18next';
import { ApiError } from '../api/client';
import { useIncidentProblemText, type IncidentAction } from './words';

/**
 * A refusal: the server's own sentence (`detail`) and the fields it named. In English that
 * sentence is the message; in another language the reason comes first in that language and the
 * server's English sentence follows, marked as such.
 */
export function Refusal({ error, action, onRetry }: { error: unknown; action: IncidentAction; onRetry?: () => void }) {
  const { t, i18n } = useTranslation();
  const translated = useIncidentProblemText(action);
  const english = (i18n.resolvedLanguage ?? i18n.language).startsWith('en');
  const problem = error instanceof ApiError ? error : null;
  const detail = problem?.detail;
  const fields = problem?.errors ?? [];
  return (
    <div className="error incident-refusal" role="alert">
      <p>
        <span className="error-mark" aria-hidden="true">
          !
        </span>{' '}
        {english && detail ? detail : translated(error)}
      </p>
      {!english && detail && (
        <p className="server-detail">
          {t('incidents.serverSaid')}{' '}
          <q lang="en" className="prewrap">
            {detail}
          </q>
        </p>
      )}
      {fields.length > 0 && (
        <ul className="field-problems" lang={english ? undefined : 'en'}>
          {fields.map((field) => (
            <li key={`${field.path}:${field.message}`}>
              <code>{field.path}</code>: {field.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}
