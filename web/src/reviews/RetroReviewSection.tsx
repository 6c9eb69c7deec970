import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { AccessedObject, AccessOutcome } from '../ui/AccessCells';
import { api, ApiError, type AccessLogRow, type AccessRequestView } from '../api/client';
import { keys, useImageAccesses, useRetroReviewList } from '../api/queries';
import { useSession } from '../auth/session';
import { BreakGlassMark } from '../ui/BreakGlass';
import { RequestDetails } from '../ui/RequestDetails';
import { useDepartmentName } from '../ui/department';
import { StatusBadge } from '../ui/StatusBadge';
import { useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading, useProblemText } from '../ui/status';
import { useNow } from '../ui/useNow';

type Decision = 'approve' | 'deny';

/** Rows of what was seen shown before "show all". */
const FIRST_ROWS = 20;

/**
 * Break-glass to review afterwards: emergency access already granted, whose review afterwards
 * is pending, that this person did not open. Whether they may judge it is the server's to say
 * (department, role, one judgement each); its refusals are shown as sentences.
 */
export function RetroReviewSection() {
  const { t } = useTranslation();
  const { user } = useSession();
  const id = useId();
  // Asked of the API by kind and review status: a break-glass stays to be judged after its grant expired or was revoked.
  const all = useRetroReviewList();
  const [done, setDone] = useState<{ decision: Decision; request: AccessRequestView } | null>(null);
  // The soonest deadline first: what runs out of time is judged first.
  const waiting = (all.data ?? [])
    .filter((request) => request.kind === 'break-glass' && request.retroReview?.status === 'PENDING' && request.requester !== user?.username)
    .sort((a, b) => (a.retroReview?.deadline ?? '').localeCompare(b.retroReview?.deadline ?? ''));
  return (
    <section className="retro-section" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('reviews.breakGlass.title')}</h2>
      <p className="muted">{t('reviews.breakGlass.intro')}</p>
      {done && (
        <p className="success" role="status">
          {t(`reviews.breakGlass.done.${done.decision}`, {
            requester: done.request.requester,
            patient: done.request.patientId,
            status: done.request.retroReview ? t(`breakGlass.retroStatus.${done.request.retroReview.status}`) : '',
          })}
        </p>
      )}
      {all.isPending && <Loading />}
      {all.isError && <ErrorMessage error={all.error} onRetry={() => void all.refetch()} />}
      {all.isSuccess && waiting.length === 0 && <Empty>{t('reviews.breakGlass.empty')}</Empty>}
      <ul className="request-list">
        {waiting.map((request) => (
          <RetroItem key={request.id} request={request} onDone={(decision, answer) => setDone({ decision, request: answer })} />
        ))}
      </ul>
    </section>
  );
}

function RetroItem({ request, onDone }: { request: AccessRequestView; onDone: (decision: Decision, answer: AccessRequestView) => void }) {
  const { t, i18n } = useTranslation();
  const { user } = useSession();
  const format = useFormat();
  const now = useNow(60_000);
  const department = useDepartmentName();
  const general = useProblemText();
  const id = useId();
  const client = useQueryClient();
  const [denying, setDenying] = useState(false);
  const [comment, setComment] = useState('');
  // A break-glass's reviews are the ones afterwards: none came before it.
  const mine = request.reviews.find((review) => review.reviewer === user?.username);
  const review = useMutation({
    mutationFn: (body: { decision: Decision; comment?: string }) =>
      api<AccessRequestView>(`/api/access-requests/${encodeURIComponent(request.id)}/retro-reviews`, {
        body: { ...body, requestHash: request.requestHash },
      }),
    onSuccess: (answer, body) => {
      onDone(body.decision, answer);
      void client.invalidateQueries({ queryKey: keys.requests });
    },
  });
  const commentMissing = denying && review.error instanceof ApiError && review.error.code === 'COMMENT_REQUIRED';
  // Said of a judgement afterwards where a request's words would not fit; otherwise as any review's refusal.
  const describe = (error: unknown) => {
    const specific = error instanceof ApiError && error.code ? `reviews.breakGlass.problems.${error.code}` : '';
    return specific && i18n.exists(specific) ? t(specific) : general(error);
  };
  const onDeny = (event: FormEvent) => {
    event.preventDefault();
    review.mutate({ decision: 'deny', comment });
  };
  const deadline = request.retroReview?.deadline ?? request.reviewDeadline;
  return (
    <li className="request-item retro-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h3 id={`${id}-title`}>{t('reviews.itemTitle', { requester: request.requester, department: department(request.departmentId) })}</h3>
        <span className="badges">
          <BreakGlassMark request={request} />
          <StatusBadge status={request.status} />
        </span>
      </div>
      <p className="retro-deadline">{t('reviews.breakGlass.deadline', { when: format.dateTime(deadline), relative: format.relative(deadline, now) })}</p>
      {request.grant && (
        <p className="muted">
          {t('reviews.breakGlass.granted', {
            from: format.dateTime(request.grant.activatedAt),
            to: format.dateTime(request.grant.endedAt ?? request.grant.expiresAt),
          })}
        </p>
      )}
      <RequestDetails request={request} showRequester />
      <WhatWasSeen request={request} />
      {mine && <p className="notice">{t(`reviews.breakGlass.youReviewed.${mine.decision}`)}</p>}
      <div className="actions" hidden={!!mine}>
        <button type="button" className="button" onClick={() => review.mutate({ decision: 'approve' })} disabled={review.isPending}>
          {t('reviews.breakGlass.justified')}
        </button>
        {!denying && (
          <button type="button" className="button danger" onClick={() => setDenying(true)} disabled={review.isPending}>
            {t('reviews.breakGlass.notJustified')}
          </button>
        )}
      </div>
      {denying && !mine && (
        // No required check in the page: the server asks for the reason (COMMENT_REQUIRED) and the page says so.
        <form className="deny-form" onSubmit={onDeny} noValidate>
          <div className="field">
            <label htmlFor={`${id}-comment`}>{t('reviews.breakGlass.comment')}</label>
            <textarea
              id={`${id}-comment`}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              rows={2}
              aria-required="true"
              // "Not justified" was just pressed: the reason is what comes next.
              autoFocus
              aria-invalid={commentMissing}
              aria-describedby={`${id}-comment-hint`}
            />
            <p className="hint" id={`${id}-comment-hint`}>
              {t('reviews.breakGlass.commentHint')}
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="button danger" disabled={review.isPending}>
              {t('reviews.breakGlass.notJustified')}
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() => {
                setDenying(false);
                review.reset();
              }}
            >
              {t('common.cancel')}
            </button>
          </div>
        </form>
      )}
      {review.isPending && <p role="status">{t('reviews.breakGlass.sending')}</p>}
      {review.isError && <ErrorMessage error={review.error} describe={describe} />}
    </li>
  );
}

/** What was seen under the grant, as the gateway recorded it: time, route, study/series/instance, outcome. */
function WhatWasSeen({ request }: { request: AccessRequestView }) {
  const { t } = useTranslation();
  const format = useFormat();
  const id = useId();
  const [all, setAll] = useState(false);
  const seen = useImageAccesses(request.id, request.status === 'ACTIVE');
  const rows: AccessLogRow[] = seen.data?.items ?? [];
  const shown = all ? rows : rows.slice(0, FIRST_ROWS);
  return (
    <section className="seen" aria-labelledby={`${id}-heading`}>
      <h4 id={`${id}-heading`}>{t('reviews.breakGlass.seen.title')}</h4>
      {seen.isPending && <Loading />}
      {seen.isError && <ErrorMessage error={seen.error} onRetry={() => void seen.refetch()} />}
      {seen.isSuccess && rows.length === 0 && <Empty>{t('reviews.breakGlass.seen.none')}</Empty>}
      {seen.data?.truncated && <p className="notice">{t('reviews.breakGlass.seen.truncated', { count: rows.length })}</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{t('reviews.breakGlass.seen.caption', { count: rows.length })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('accesses.col.at')}</th>
                <th scope="col">{t('reviews.breakGlass.seen.route')}</th>
                <th scope="col">{t('reviews.breakGlass.seen.object')}</th>
                <th scope="col">{t('accesses.col.outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((row, index) => (
                <tr key={`${row.at}-${row.jti ?? ''}-${index}`}>
                  <td>
                    <time dateTime={row.at}>{format.dateTime(row.at)}</time>
                  </td>
                  <td className="mono">{row.route}</td>
                  <td className="mono uid">
                    <AccessedObject row={row} />
                  </td>
                  <td>
                    <AccessOutcome row={row} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows.length > FIRST_ROWS && (
        <button type="button" className="button secondary" aria-expanded={all} onClick={() => setAll((value) => !value)}>
          {all ? t('reviews.breakGlass.seen.showFewer') : t('reviews.breakGlass.seen.showAll', { count: rows.length })}
        </button>
      )}
    </section>
  );
}
