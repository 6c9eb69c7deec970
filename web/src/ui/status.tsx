import { useTranslation } from 'react-i18next';
import { ApiError, NetworkError } from '../api/client';

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status" aria-live="polite">
      {label ?? t('common.loading')}
    </p>
  );
}

/** The message a person reads for a failure: the refusal's reason translated, never a bare code. */
export function useProblemText(): (error: unknown) => string {
  const { t, i18n } = useTranslation();
  return (error: unknown) => {
    if (error instanceof ApiError) {
      const code = error.code;
      if (code && i18n.exists(`problems.${code}`)) return t(`problems.${code}`, { seconds: error.retryAfterSeconds ?? 60 });
      if (i18n.exists(`problems.status.${error.status}`)) return t(`problems.status.${error.status}`);
      return t('problems.unknown', { status: error.status });
    }
    if (error instanceof NetworkError) return t('problems.network');
    return t('problems.unexpected');
  };
}

/** `describe` words the failure in a page's own terms; by default, by the refusal's reason. */
export function ErrorMessage({ error, onRetry, describe }: { error: unknown; onRetry?: () => void; describe?: (error: unknown) => string }) {
  const { t } = useTranslation();
  const general = useProblemText();
  const text = describe ?? general;
  return (
    <div className="error" role="alert">
      <span className="error-mark" aria-hidden="true">
        !
      </span>{' '}
      <span>{text(error)}</span>
      {onRetry && (
        <button type="button" className="button secondary" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: string }) {
  return <p className="empty">{children}</p>;
}
