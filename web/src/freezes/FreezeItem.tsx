import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type FreezeView } from '../api/client';
import { keys } from '../api/queries';
import { useFormat } from '../ui/format';
import { ErrorMessage } from '../ui/status';
import { useFreezeProblemText, useFreezeTarget } from './words';

type Decision = 'approve' | 'deny';

/**
 * One freeze: what it stops, why, who froze it and when, what it revoked, and its lift. Those
 * who take part in lifting may ask for a lift, or confirm or refuse one; the server decides
 * whether they may (never the asker, and a security officer among the two).
 */
export function FreezeItem({ freeze, canLift }: { freeze: FreezeView; canLift: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const client = useQueryClient();
  const target = useFreezeTarget();
  const askProblem = useFreezeProblemText('requestLift');
  const decideProblem = useFreezeProblemText('decideLift');
  const [reason, setReason] = useState('');
  const [comment, setComment] = useState('');
  // Whatever the answer, the freeze may have changed (someone else may have decided first).
  const refresh = () => void client.invalidateQueries({ queryKey: keys.freezes });
  const path = `/api/freezes/${encodeURIComponent(freeze.id)}`;
  const ask = useMutation({
    mutationFn: () => api<FreezeView>(`${path}/lift-request`, { body: { reason } }),
    onSuccess: () => setReason(''),
    onSettled: refresh,
  });
  const decide = useMutation({
    mutationFn: (decision: Decision) => api<FreezeView>(`${path}/lift-decision`, { body: { decision, ...(comment.trim() ? { comment } : {}) } }),
    onSuccess: () => setComment(''),
    onSettled: refresh,
  });
  const onAsk = (event: FormEvent) => {
    event.preventDefault();
    decide.reset();
    ask.mutate();
  };
  const onDecide = (decision: Decision) => {
    ask.reset();
    decide.mutate(decision);
  };
  const active = freeze.status === 'ACTIVE';
  const lift = freeze.liftRequest;
  const busy = ask.isPending || decide.isPending;

  return (
    <li className="request-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h3 id={`${id}-title`} className="uid">
          {target(freeze)}
        </h3>
        {/* The state in words; the colour only repeats it. */}
        <span className={`badge freeze-${freeze.status.toLowerCase()}`} data-status={freeze.status}>
          {t(`freezes.status.${freeze.status}`)}
        </span>
      </div>
      <dl className="details">
        <dt>{t('freezes.reason')}</dt>
        <dd className="prewrap">{freeze.reason}</dd>
        <dt>{t('freezes.frozenBy')}</dt>
        <dd>{t('freezes.byAt', { by: freeze.frozenBy, when: format.dateTime(freeze.frozenAt) })}</dd>
        <dt>{t('freezes.revoked')}</dt>
        <dd>{t('freezes.revokedCount', { count: freeze.revokedGrants })}</dd>
        {lift && (
          <>
            <dt>{t('freezes.liftAskedBy')}</dt>
            <dd>
              {t('freezes.byAt', { by: lift.by, when: format.dateTime(lift.at) })}
              <q className="comment prewrap">{lift.reason}</q>
            </dd>
          </>
        )}
        {freeze.liftedAt && (
          <>
            <dt>{t('freezes.liftedBy')}</dt>
            <dd>{t('freezes.byAt', { by: format.list(freeze.liftedBy), when: format.dateTime(freeze.liftedAt) })}</dd>
          </>
        )}
      </dl>
      {canLift && active && !lift && (
        <form className="lift-form" onSubmit={onAsk}>
          <div className="field">
            <label htmlFor={`${id}-reason`}>{t('freezes.ask.reason')}</label>
            <textarea
              id={`${id}-reason`}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              rows={2}
              required
              minLength={3}
              aria-describedby={`${id}-reason-hint`}
            />
            <p className="hint" id={`${id}-reason-hint`}>
              {t('freezes.ask.hint')}
            </p>
          </div>
          <div className="actions">
            <button type="submit" className="button secondary" disabled={busy}>
              {t('freezes.ask.submit')}
            </button>
          </div>
        </form>
      )}
      {canLift && active && lift && (
        <div className="lift-form" role="group" aria-labelledby={`${id}-decide`}>
          <p id={`${id}-decide`} className="hint">
            {t('freezes.decide.hint')}
          </p>
          <div className="field">
            <label htmlFor={`${id}-comment`}>{t('freezes.decide.comment')}</label>
            <textarea id={`${id}-comment`} value={comment} onChange={(e) => setComment(e.target.value)} rows={2} />
          </div>
          <div className="actions">
            <button type="button" className="button" onClick={() => onDecide('approve')} disabled={busy}>
              {t('freezes.decide.approve')}
            </button>
            <button type="button" className="button secondary" onClick={() => onDecide('deny')} disabled={busy}>
              {t('freezes.decide.deny')}
            </button>
          </div>
        </div>
      )}
      {busy && <p role="status">{t('freezes.sending')}</p>}
      {ask.isError && <ErrorMessage error={ask.error} describe={askProblem} />}
      {decide.isError && <ErrorMessage error={decide.error} describe={decideProblem} />}
      {ask.isSuccess && (
        <p className="success" role="status">
          {t('freezes.ask.done')}
        </p>
      )}
      {decide.isSuccess && (
        <p className="success" role="status">
          {t(`freezes.decide.done.${decide.variables}`)}
        </p>
      )}
    </li>
  );
}
