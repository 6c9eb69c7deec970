import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { FREEZE_SCOPES, type FreezeScope } from '../../../domain/freeze';
import { api, ApiError, type FreezeView } from '../api/client';
import { keys } from '../api/queries';
import { ErrorMessage } from '../ui/status';
import { useFreezeProblemText, useFreezeTarget } from './words';

type Field = 'value' | 'reason';

/** The fields the API refused, by the path its problem names. */
function refusedFields(error: unknown): Set<Field> {
  const out = new Set<Field>();
  if (!(error instanceof ApiError)) return out;
  for (const entry of error.errors) if (entry.path === 'value' || entry.path === 'reason') out.add(entry.path);
  return out;
}

/** A security officer's form: what to freeze, and why; freezing everything is confirmed first. */
export function FreezeForm() {
  const { t } = useTranslation();
  const id = useId();
  const client = useQueryClient();
  const target = useFreezeTarget();
  const problemText = useFreezeProblemText('impose');
  const [scope, setScope] = useState<FreezeScope>('patient');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const everything = scope === 'all';

  const freeze = useMutation({
    mutationFn: (body: { scope: FreezeScope; value?: string; reason: string }) => api<FreezeView>('/api/freezes', { body }),
    onSuccess: () => {
      setValue('');
      setReason('');
      setConfirmed(false);
    },
    onSettled: () => void client.invalidateQueries({ queryKey: keys.freezes }),
  });
  const refused = refusedFields(freeze.error);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    // The checkbox is required, so the browser stops an unconfirmed form; this stops it too.
    if (everything && !confirmed) return;
    freeze.mutate(everything ? { scope, reason } : { scope, value: value.trim(), reason });
  };
  const onScope = (next: FreezeScope) => {
    setScope(next);
    setConfirmed(false);
    freeze.reset();
  };

  return (
    <form className="card freeze-form" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('freezes.form.title')}</h2>
      <div className="field">
        <label htmlFor={`${id}-scope`}>{t('freezes.form.scope')}</label>
        <select id={`${id}-scope`} value={scope} onChange={(e) => onScope(e.target.value as FreezeScope)} aria-describedby={`${id}-scope-hint`}>
          {FREEZE_SCOPES.map((option) => (
            <option key={option} value={option}>
              {t(`freezes.scope.${option}`)}
            </option>
          ))}
        </select>
        <p className="hint" id={`${id}-scope-hint`}>
          {t(`freezes.form.scopeHint.${scope}`)}
        </p>
      </div>
      {!everything && (
        <div className="field">
          <label htmlFor={`${id}-value`}>{t(`freezes.form.value.${scope}`)}</label>
          <input
            id={`${id}-value`}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            required
            autoComplete="off"
            spellCheck={false}
            aria-invalid={refused.has('value')}
            aria-describedby={refused.has('value') ? `${id}-value-error` : undefined}
          />
          {refused.has('value') && (
            <p className="field-error" id={`${id}-value-error`}>
              {t(`freezes.form.errors.value.${scope}`)}
            </p>
          )}
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-reason`}>{t('freezes.form.reason')}</label>
        <textarea
          id={`${id}-reason`}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          rows={2}
          required
          minLength={3}
          aria-invalid={refused.has('reason')}
          aria-describedby={`${id}-reason-hint${refused.has('reason') ? ` ${id}-reason-error` : ''}`}
        />
        <p className="hint" id={`${id}-reason-hint`}>
          {t('freezes.form.reasonHint')}
        </p>
        {refused.has('reason') && (
          <p className="field-error" id={`${id}-reason-error`}>
            {t('freezes.form.errors.reason')}
          </p>
        )}
      </div>
      {everything && (
        <div className="confirm-all">
          <p id={`${id}-all-warning`}>
            <span className="error-mark" aria-hidden="true">
              !
            </span>{' '}
            {t('freezes.form.allWarning')}
          </p>
          <label className="inline">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} required aria-describedby={`${id}-all-warning`} />{' '}
            {t('freezes.form.confirmAll')}
          </label>
        </div>
      )}
      {freeze.isError &&
        (refused.size > 0 ? (
          <p className="error" role="alert">
            {t('freezes.form.fixFields')}
          </p>
        ) : (
          <ErrorMessage error={freeze.error} describe={problemText} />
        ))}
      {freeze.isSuccess && (
        <p className="success" role="status">
          {t('freezes.form.done', { target: target(freeze.data) })}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button danger" disabled={freeze.isPending} aria-busy={freeze.isPending}>
          {everything ? t('freezes.form.submitAll') : t('freezes.form.submit')}
        </button>
        {freeze.isPending && <span role="status">{t('freezes.form.submitting')}</span>}
      </div>
    </form>
  );
}
