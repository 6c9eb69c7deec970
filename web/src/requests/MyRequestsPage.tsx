import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, type AccessRequestView } from '../api/client';
import { keys, useRequestList } from '../api/queries';
import { useSession } from '../auth/session';
import { BreakGlassMark, RetroReviewLine } from '../ui/BreakGlass';
import { RequestDetails } from '../ui/RequestDetails';
import { StatusBadge } from '../ui/StatusBadge';
import { useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useNow } from '../ui/useNow';
import { BreakGlassForm } from './BreakGlassForm';
import { RequestForm } from './RequestForm';
import { useDocumentTitle } from '../ui/useDocumentTitle';

const RECENT_MS = 24 * 3600_000;

export function MyRequestsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('requests.title'));
  const { user } = useSession();
  const list = useRequestList();
  const mine = (list.data ?? []).filter((request) => request.requester === user?.username);
  // What can still change, or ended within the day (a denial stays where it was seen), first;
  // older endings folded below.
  const now = useNow(60_000);
  const recent = (request: AccessRequestView) => !request.endedAt || now - new Date(request.endedAt).getTime() < RECENT_MS;
  const open = (request: AccessRequestView) => (request.status === 'PENDING_REVIEW' || request.status === 'ACTIVE' ? 0 : 1);
  const current = mine.filter(recent).sort((a, b) => open(a) - open(b) || b.submittedAt.localeCompare(a.submittedAt));
  const earlier = mine.filter((request) => !recent(request));
  return (
    <div className="page">
      <h1>{t('requests.title')}</h1>
      <div className="two-columns">
        <div>
          <RequestForm />
          <BreakGlassForm />
        </div>
        <section className="card" aria-labelledby="my-requests-heading">
          <h2 id="my-requests-heading">{t('requests.mine.title')}</h2>
          {list.isPending && <Loading />}
          {list.isError && <ErrorMessage error={list.error} onRetry={() => void list.refetch()} />}
          {list.isSuccess && mine.length === 0 && <Empty>{t('requests.mine.empty')}</Empty>}
          <ul className="request-list">
            {current.map((request) => (
              <MyRequest key={request.id} request={request} />
            ))}
          </ul>
          {earlier.length > 0 && (
            <details className="earlier">
              <summary>{t('requests.mine.earlier', { count: earlier.length })}</summary>
              <ul className="request-list">
                {earlier.map((request) => (
                  <MyRequest key={request.id} request={request} />
                ))}
              </ul>
            </details>
          )}
        </section>
      </div>
    </div>
  );
}

function MyRequest({ request }: { request: AccessRequestView }) {
  const { t } = useTranslation();
  const format = useFormat();
  const now = useNow();
  const client = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => api<AccessRequestView>(`/api/access-requests/${encodeURIComponent(request.id)}/cancel`, { body: {} }),
    onSettled: () => void client.invalidateQueries({ queryKey: keys.requests }),
  });
  const expiresAt = request.grant?.expiresAt;
  const active = request.status === 'ACTIVE' && !!expiresAt && new Date(expiresAt).getTime() > now;
  return (
    <li className="request-item" aria-labelledby={`request-${request.id}-title`}>
      <div className="request-head">
        <h3 id={`request-${request.id}-title`}>{t('requests.mine.itemTitle', { patient: request.patientId, date: format.dateTime(request.submittedAt) })}</h3>
        <span className="badges">
          <BreakGlassMark request={request} />
          <StatusBadge status={request.status} live />
        </span>
      </div>
      <RetroReviewLine request={request} />
      <RequestDetails request={request} />
      {request.status === 'PENDING_REVIEW' && <p className="muted">{t('requests.mine.reviewBy', { when: format.dateTime(request.reviewDeadline) })}</p>}
      {active && expiresAt && (
        <p className="time-left">
          {t('requests.mine.timeLeft', { time: format.countdown(new Date(expiresAt).getTime() - now), until: format.dateTime(expiresAt) })}
        </p>
      )}
      {request.endReason && <p className="muted">{t('requests.mine.ended', { when: format.dateTime(request.endedAt) })}</p>}
      <div className="actions">
        {active && (
          <Link className="button" to={`/requests/${encodeURIComponent(request.id)}/view`}>
            {t('requests.mine.open')}
          </Link>
        )}
        {request.status === 'PENDING_REVIEW' && (
          <button type="button" className="button secondary" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            {t('requests.mine.cancel')}
          </button>
        )}
      </div>
      {cancel.isError && <ErrorMessage error={cancel.error} />}
    </li>
  );
}
