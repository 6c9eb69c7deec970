import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type AccessRequestView } from '../api/client';
import { keys, useWebConfig } from '../api/queries';
import { useFormat } from '../ui/format';
import { ErrorMessage, useProblemText } from '../ui/status';
import { fieldErrors, studyList } from './fields';
import { StudyLookup } from './StudyLookup';

/**
 * The longest emergency access the default policy grants (maxMinutes); the API
 * holds the real bound and says so per field if it is lower.
 */
/** Until the page's configuration says otherwise: the API's default (maxMinutes). */
const DEFAULT_MAX_MINUTES = 60;

type Field = 'studyInstanceUids' | 'patientId' | 'justification' | 'durationMinutes';
const FIELDS: Field[] = ['studyInstanceUids', 'patientId', 'justification', 'durationMinutes'];

/** The PACS's refusal of a study by its reason; the emergency's own bounds (studies, minutes) in its words; the rest as a request says them. */
function messageKey(field: Field, reason: string | undefined): string {
  if (reason && field === 'studyInstanceUids') return `requests.form.errors.${reason}`;
  if (field === 'studyInstanceUids' || field === 'durationMinutes') return `requests.breakGlass.errors.${field}`;
  return `requests.form.errors.${field}`;
}

/**
 * Break the glass: access at once, without review, for a short time; recorded as break-glass
 * and reviewed afterwards. Kept apart from the ordinary request, behind its own warning and a
 * button that opens the form, so that it is never sent in place of a request for review.
 */
export function BreakGlassForm() {
  const { t } = useTranslation();
  const format = useFormat();
  const general = useProblemText();
  const client = useQueryClient();
  const id = useId();
  const maxMinutes = useWebConfig().data?.breakGlassMaxMinutes ?? DEFAULT_MAX_MINUTES;
  const [open, setOpen] = useState(false);
  // One key per filled-in form: a retry after a lost answer is answered, not opened twice.
  const idempotencyKey = useRef(crypto.randomUUID());
  const openedMessage = useRef<HTMLParagraphElement>(null);
  const [patientId, setPatientId] = useState('');
  const [studies, setStudies] = useState('');
  const [justification, setJustification] = useState('');
  // Untouched (null): the longest allowed, shown as such and left to the API's default.
  const [duration, setDuration] = useState<string | null>(null);
  const [opened, setOpened] = useState<AccessRequestView | null>(null);

  const submit = useMutation({
    mutationFn: () =>
      api<AccessRequestView>('/api/break-glass', {
        body: {
          studyInstanceUids: studyList(studies),
          patientId: patientId.trim(),
          justification,
          ...(duration === null ? {} : { durationMinutes: Number(duration) }),
        },
        headers: { 'Idempotency-Key': idempotencyKey.current },
      }),
    onSuccess: (view) => {
      setOpened(view);
      setPatientId('');
      setStudies('');
      setJustification('');
      setDuration(null);
      idempotencyKey.current = crypto.randomUUID();
      // Closed again: a second emergency is a deliberate second step.
      setOpen(false);
      void client.invalidateQueries({ queryKey: keys.requests });
    },
    onError: (error) => {
      // Refused, nothing was opened: the corrected form is a new break-glass.
      if (error instanceof ApiError && error.status < 500) idempotencyKey.current = crypto.randomUUID();
    },
  });
  // The button that had the focus is gone with the form: the focus goes to what happened.
  useEffect(() => {
    if (opened) openedMessage.current?.focus();
  }, [opened]);

  const errors = fieldErrors(submit.error, FIELDS, messageKey);
  const hasFieldErrors = Object.keys(errors).length > 0;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setOpened(null);
    submit.mutate();
  };
  const toggle = () => {
    setOpen((value) => !value);
    setOpened(null);
  };
  // The daily allowance is said as what it is, not as "wait 3600 seconds".
  const describe = (error: unknown) =>
    error instanceof ApiError && error.code === 'BREAK_GLASS_LIMIT' ? t('requests.breakGlass.problems.RATE_LIMITED') : general(error);
  const describedBy = (field: Field, hint?: string) => [hint, errors[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const errorFor = (field: Field) =>
    errors[field] ? (
      <p className="field-error" id={`${id}-${field}-error`}>
        <span aria-hidden="true">! </span>
        {t(errors[field], { max: maxMinutes })}
      </p>
    ) : null;

  return (
    <section className="card break-glass" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>
        <span className="break-glass-icon" aria-hidden="true">
          !
        </span>{' '}
        {t('requests.breakGlass.title')}
      </h2>
      <div className="break-glass-warning" id={`${id}-warning`}>
        <p>
          <strong>{t('requests.breakGlass.warningLead')}</strong> {t('requests.breakGlass.warning', { max: maxMinutes })}
        </p>
      </div>
      <div className="actions">
        <button type="button" className="button danger-outline" aria-expanded={open} aria-controls={`${id}-form`} onClick={toggle}>
          {open ? t('requests.breakGlass.hide') : t('requests.breakGlass.show')}
        </button>
      </div>
      {opened && (
        <p className="success" role="status" tabIndex={-1} ref={openedMessage}>
          {t('requests.breakGlass.opened', { patient: opened.patientId, until: format.dateTime(opened.grant?.expiresAt) })}
        </p>
      )}
      {/* Not in the page at all until asked for: nothing of it is filled in, or found, by mistake. */}
      <div id={`${id}-form`}>
        {open && (
          <form className="form" onSubmit={onSubmit} noValidate aria-labelledby={`${id}-heading`} aria-describedby={`${id}-warning`}>
            <div className="field">
              <label htmlFor={`${id}-patient`}>{t('requests.form.patientId')}</label>
              <input
                id={`${id}-patient`}
                value={patientId}
                onChange={(e) => setPatientId(e.target.value)}
                required
                autoComplete="off"
                spellCheck={false}
                aria-invalid={!!errors.patientId}
                aria-describedby={describedBy('patientId')}
              />
              {errorFor('patientId')}
            </div>
            <div className="field">
              <label htmlFor={`${id}-studies`}>{t('requests.form.studies')}</label>
              <textarea
                id={`${id}-studies`}
                value={studies}
                onChange={(e) => setStudies(e.target.value)}
                rows={2}
                required
                spellCheck={false}
                aria-invalid={!!errors.studyInstanceUids}
                aria-describedby={describedBy('studyInstanceUids', `${id}-studies-hint`)}
              />
              <p className="hint" id={`${id}-studies-hint`}>
                {t('requests.form.studiesHint')}
              </p>
              {errorFor('studyInstanceUids')}
              <StudyLookup patientId={patientId} chosen={studyList(studies)} onAdd={(uid) => setStudies((text) => [...studyList(text), uid].join('\n'))} />
            </div>
            <div className="field">
              <label htmlFor={`${id}-justification`}>{t('requests.form.justification')}</label>
              <textarea
                id={`${id}-justification`}
                value={justification}
                onChange={(e) => setJustification(e.target.value)}
                rows={3}
                required
                minLength={10}
                maxLength={2000}
                aria-invalid={!!errors.justification}
                aria-describedby={describedBy('justification', `${id}-justification-hint`)}
              />
              <p className="hint" id={`${id}-justification-hint`}>
                {t('requests.breakGlass.justificationHint')}
              </p>
              {errorFor('justification')}
            </div>
            <div className="field">
              <label htmlFor={`${id}-duration`}>{t('requests.form.duration')}</label>
              <input
                id={`${id}-duration`}
                type="number"
                inputMode="numeric"
                min={1}
                max={maxMinutes}
                step={1}
                value={duration ?? String(maxMinutes)}
                onChange={(e) => setDuration(e.target.value)}
                required
                aria-invalid={!!errors.durationMinutes}
                aria-describedby={describedBy('durationMinutes', `${id}-duration-hint`)}
              />
              <p className="hint" id={`${id}-duration-hint`}>
                {t('requests.breakGlass.durationHint', { max: maxMinutes })}
              </p>
              {errorFor('durationMinutes')}
            </div>
            {submit.isError &&
              (hasFieldErrors ? (
                <p className="error" role="alert">
                  {t('requests.breakGlass.fixFields')}
                </p>
              ) : (
                <ErrorMessage error={submit.error} describe={describe} />
              ))}
            <div className="actions">
              <button type="submit" className="button danger" disabled={submit.isPending} aria-busy={submit.isPending}>
                {t('requests.breakGlass.submit')}
              </button>
              {submit.isPending && <span role="status">{t('requests.breakGlass.submitting')}</span>}
            </div>
          </form>
        )}
      </div>
    </section>
  );
}
