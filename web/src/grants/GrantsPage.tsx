import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type AccessRequestView } from '../api/client';
import { keys, useRequestList } from '../api/queries';
import { BreakGlassMark, RetroReviewLine } from '../ui/BreakGlass';
import { RequestDetails } from '../ui/RequestDetails';
import { StatusBadge } from '../ui/StatusBadge';
import { useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useNow } from '../ui/useNow';
import { useDocumentTitle } from '../ui/useDocumentTitle';

export function GrantsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('grants.title'));
  const format = useFormat();
  const active = useRequestList('ACTIVE');
  const grants = (active.data ?? []).slice().sort((a, b) => (a.grant?.expiresAt ?? '').localeCompare(b.grant?.expiresAt ?? ''));
  // Said here, not in the grant's card: a revoked grant leaves the list of active ones at once.
  const [revoked, setRevoked] = useState<AccessRequestView | null>(null);
  return (
    <div className="page">
      <h1>{t('grants.title')}</h1>
      {revoked && (
        <p className="success" role="status">
          {t('grants.revokedOne', { requester: revoked.requester, patient: revoked.patientId, when: format.dateTime(revoked.endedAt) })}
        </p>
      )}
      {active.isPending && <Loading />}
      {active.isError && <ErrorMessage error={active.error} onRetry={() => void active.refetch()} />}
      {active.isSuccess && grants.length === 0 && <Empty>{t('grants.empty')}</Empty>}
      <ul className="request-list">
        {grants.map((request) => (
          <Grant key={request.id} request={request} onRevoked={setRevoked} />
        ))}
      </ul>
    </div>
  );
}

function Grant({ request, onRevoked }: { request: AccessRequestView; onRevoked: (view: AccessRequestView) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const now = useNow();
  const client = useQueryClient();
  const [reason, setReason] = useState('');
  const revoke = useMutation({
    mutationFn: () => api<AccessRequestView>(`/api/access-requests/${encodeURIComponent(request.id)}/revoke`, { body: { reason } }),
    onSuccess: onRevoked,
    onSettled: () => void client.invalidateQueries({ queryKey: keys.requests }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    revoke.mutate();
  };
  const expiresAt = request.grant?.expiresAt;
  return (
    <li className="request-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h2 id={`${id}-title`}>{t('grants.itemTitle', { requester: request.requester, patient: request.patientId })}</h2>
        <span className="badges">
          <BreakGlassMark request={request} />
          <StatusBadge status={request.status} live />
        </span>
      </div>
      {request.grant && (
        <p>
          {request.kind === 'break-glass'
            ? t('grants.breakGlassSince', { when: format.dateTime(request.grant.activatedAt) })
            : t('grants.approvedBy', { approvers: format.list(request.grant.approvers), when: format.dateTime(request.grant.activatedAt) })}{' '}
          {expiresAt && t('grants.timeLeft', { time: format.countdown(new Date(expiresAt).getTime() - now) })}
        </p>
      )}
      <RetroReviewLine request={request} />
      <RequestDetails request={request} showRequester />
      <form className="revoke-form" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor={`${id}-reason`}>{t('grants.reason')}</label>
          <textarea id={`${id}-reason`} value={reason} onChange={(e) => setReason(e.target.value)} rows={2} required minLength={3} />
        </div>
        <div className="actions">
          <button type="submit" className="button danger" disabled={revoke.isPending}>
            {t('grants.revoke')}
          </button>
        </div>
      </form>
      {revoke.isError && <ErrorMessage error={revoke.error} />}
    </li>
  );
}
