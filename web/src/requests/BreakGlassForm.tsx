import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type AccessRequestView } from '../api/client';
import { keys } from '../api/queries';
import { useFormat } from '../ui/format';
import { ErrorMessage, useProblemText } from '../ui/status';
import { fieldErrors, studyList } from './fields';
import { StudyLookup } from './StudyLookup';

/**
 * The longest emergency access the default policy grants (BREAK_GLASS_MAX_MINUTES); the API
 * holds the real bound and says so per field if it is lower.
 */
export const BREAK_GLASS_MAX_MINUTES = 60;

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
  const [open, setOpen] = useState(false);
  const [patientId, setPatientId] = useState('');
  const [studies, setStudies] = useState('');
  const [justification, setJustification] = useState('');
  const [duration, setDuration] = useState(String(BREAK_GLASS_MAX_MINUTES));
  const [opened, setOpened] = useState<AccessRequestView | null>(null);

  // No Idempotency-Key: the API takes none here; a double click is held by the button and by the API's daily allowance.
  const submit = useMutation({
    mutationFn: () =>
      api<AccessRequestView>('/api/break-glass', {
        body: { studyInstanceUids: studyList(studies), patientId: patientId.trim(), justification, durationMinutes: Number(duration) },
      }),
    onSuccess: (view) => {
      setOpened(view);
      setPatientId('');
      setStudies('');
      setJustification('');
      setDuration(String(BREAK_GLASS_MAX_MINUTES));
      // Closed again: a second emergency is a deliberate second step.
      setOpen(false);
      void client.invalidateQueries({ queryKey: keys.requests });
    },
  });

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
        {t(errors[field], { max: BREAK_GLASS_MAX_MINUTES })}
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
          <strong>{t('requests.breakGlass.warningLead')}</strong> {t('requests.breakGlass.warning', { max: BREAK_GLASS_MAX_MINUTES })}
        </p>
      </div>
      <div className="actions">
        <button type="button" className="button danger-outline" aria-expanded={open} aria-controls={`${id}-form`} onClick={toggle}>
          {open ? t('requests.breakGlass.hide') : t('requests.breakGlass.show')}
        </button>
      </div>
      {opened && (
        <p className="success" role="status">
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
                max={BREAK_GLASS_MAX_MINUTES}
                step={1}
                value={duration}
                onChange={(e) => setDuration(e.target.value)}
                required
                aria-invalid={!!errors.durationMinutes}
                aria-describedby={describedBy('durationMinutes', `${id}-duration-hint`)}
              />
              <p className="hint" id={`${id}-duration-hint`}>
                {t('requests.breakGlass.durationHint', { max: BREAK_GLASS_MAX_MINUTES })}
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
