import { useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type FreezeView } from '../api/client';
import { keys } from '../api/queries';
import { hasRole, useSession } from '../auth/session';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { FreezeForm } from './FreezeForm';
import { FreezeItem } from './FreezeItem';

/** Freezes are not in the event stream: the list is asked for again this often while the page is open. */
const REFRESH_MS = 4_000;

/**
 * Freezes: security officers freeze access; security officers and privacy officers lift a
 * freeze, two people together; auditors read. What each may do is the API's to decide.
 */
export function FreezesPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('freezes.title'));
  const id = useId();
  const { user } = useSession();
  const freezes = useQuery({
    queryKey: keys.freezes,
    queryFn: ({ signal }) => api<{ items: FreezeView[] }>('/api/freezes', { signal }),
    refetchInterval: REFRESH_MS,
  });
  const items = freezes.data?.items ?? [];
  const canFreeze = hasRole(user, 'security_officer');
  const canLift = hasRole(user, 'security_officer', 'privacy_officer');
  return (
    <div className="page">
      <h1>{t('freezes.title')}</h1>
      <p className="muted page-intro">{t('freezes.intro')}</p>
      <div className={canFreeze ? 'two-columns' : undefined}>
        {canFreeze && <FreezeForm />}
        <section aria-labelledby={`${id}-list`}>
          <h2 id={`${id}-list`}>{t('freezes.list')}</h2>
          {freezes.isPending && <Loading />}
          {/* A failed refresh keeps the list it had, and says so. */}
          {freezes.isError && <ErrorMessage error={freezes.error} onRetry={() => void freezes.refetch()} />}
          {freezes.isSuccess && items.length === 0 && <Empty>{t('freezes.empty')}</Empty>}
          <ul className="request-list">
            {items.map((freeze) => (
              <FreezeItem key={freeze.id} freeze={freeze} canLift={canLift} />
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
