import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type AccessRequestView } from '../api/client';
import { keys, useRequestList } from '../api/queries';
import { useSession } from '../auth/session';
import { RequestDetails } from '../ui/RequestDetails';
import { useDepartmentName } from '../ui/department';
import { StatusBadge } from '../ui/StatusBadge';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { RetroReviewSection } from './RetroReviewSection';

export function ReviewQueuePage() {
  const { t } = useTranslation();
  useDocumentTitle(t('reviews.title'));
  const { user } = useSession();
  const id = useId();
  const pending = useRequestList('PENDING_REVIEW');
  // Kept at page level: a decided request may leave the queue (no longer pending) as soon as it refreshes.
  const [done, setDone] = useState<{ decision: 'approve' | 'deny'; request: AccessRequestView } | null>(null);
  // Never one's own; newest first. What one has already decided stays, marked, until it leaves review.
  const queue = (pending.data ?? []).filter((request) => request.requester !== user?.username).sort((a, b) => b.submittedAt.localeCompare(a.submittedAt));
  return (
    <div className="page">
      <h1>{t('reviews.title')}</h1>
      {done && (
        <p className="success" role="status">
          {t(`reviews.done.${done.decision}`, {
            requester: done.request.requester,
            patient: done.request.patientId,
            status: t(`status.${done.request.status}`),
          })}
        </p>
      )}
      <section className="queue-section" aria-labelledby={`${id}-pending`}>
        <h2 id={`${id}-pending`}>{t('reviews.pendingTitle')}</h2>
        {pending.isPending && <Loading />}
        {pending.isError && <ErrorMessage error={pending.error} onRetry={() => void pending.refetch()} />}
        {pending.isSuccess && queue.length === 0 && <Empty>{t('reviews.empty')}</Empty>}
        <ul className="request-list">
          {queue.map((request) => (
            <QueueItem key={request.id} request={request} onDone={(decision, answer) => setDone({ decision, request: answer })} />
          ))}
        </ul>
      </section>
      <RetroReviewSection />
    </div>
  );
}

function QueueItem({ request, onDone }: { request: AccessRequestView; onDone: (decision: 'approve' | 'deny', answer: AccessRequestView) => void }) {
  const { t } = useTranslation();
  const { user } = useSession();
  const department = useDepartmentName();
  const mine = request.reviews.find((r) => r.reviewer === user?.username);
  const id = useId();
  const client = useQueryClient();
  const [denying, setDenying] = useState(false);
  const [comment, setComment] = useState('');
  const review = useMutation({
    mutationFn: (body: { decision: 'approve' | 'deny'; comment?: string }) =>
      api<AccessRequestView>(`/api/access-requests/${encodeURIComponent(request.id)}/reviews`, {
        body: { ...body, requestHash: request.requestHash },
        headers: { 'Idempotency-Key': crypto.randomUUID() },
      }),
    onSuccess: (answer, body) => {
      onDone(body.decision, answer);
      void client.invalidateQueries({ queryKey: keys.requests });
    },
  });
  const commentMissing = denying && review.error instanceof ApiError && review.error.code === 'COMMENT_REQUIRED';
  const onDeny = (event: FormEvent) => {
    event.preventDefault();
    review.mutate({ decision: 'deny', comment });
  };
  return (
    <li className="request-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h3 id={`${id}-title`}>{t('reviews.itemTitle', { requester: request.requester, department: department(request.departmentId) })}</h3>
        <StatusBadge status={request.status} />
      </div>
      <RequestDetails request={request} showRequester />
      {mine && <p className="notice">{t(`reviews.youReviewed.${mine.decision}`)}</p>}
      <div className="actions" hidden={!!mine}>
        <button type="button" className="button" onClick={() => review.mutate({ decision: 'approve' })} disabled={review.isPending}>
          {t('reviews.approve')}
        </button>
        {!denying && (
          <button type="button" className="button danger" onClick={() => setDenying(true)} disabled={review.isPending}>
            {t('reviews.deny')}
          </button>
        )}
      </div>
      {denying && !mine && (
        <form className="deny-form" onSubmit={onDeny}>
          <div className="field">
            <label htmlFor={`${id}-comment`}>{t('reviews.comment')}</label>
            <textarea
              id={`${id}-comment`}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              rows={2}
              required
              // Deny was just pressed: the reason is what comes next.
              autoFocus
              aria-invalid={commentMissing}
              aria-describedby={`${id}-comment-hint`}
            />
            <p className="hint" id={`${id}-comment-hint`}>
              {t('reviews.commentHint')}
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="button danger" disabled={review.isPending}>
              {t('reviews.deny')}
            </button>
            <button type="button" className="button secondary" onClick={() => setDenying(false)}>
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
      {review.isPending && <p role="status">{t('reviews.sending')}</p>}
      {review.isError && <ErrorMessage error={review.error} />}
    </li>
  );
}
