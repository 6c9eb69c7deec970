import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { PURPOSES_OF_USE, type PurposeOfUse } from '../../../domain/access-request';
import { api, ApiError, type AccessRequestView } from '../api/client';
import { keys } from '../api/queries';
import { ErrorMessage } from '../ui/status';
import { fieldErrors, studyList } from './fields';
import { StudyLookup } from './StudyLookup';

type Field = 'studyInstanceUids' | 'patientId' | 'purposeOfUse' | 'justification' | 'durationMinutes';
const FIELDS: Field[] = ['studyInstanceUids', 'patientId', 'purposeOfUse', 'justification', 'durationMinutes'];
const PURPOSE_CODES = Object.keys(PURPOSES_OF_USE) as PurposeOfUse[];

/** Field-level messages: the PACS's refusal of a study by its reason, anything else by field. */
const messageKey = (field: Field, reason: string | undefined) =>
  reason && field === 'studyInstanceUids' ? `requests.form.errors.${reason}` : `requests.form.errors.${field}`;

export function RequestForm() {
  const { t } = useTranslation();
  const client = useQueryClient();
  const id = useId();
  const [studies, setStudies] = useState('');
  const [patientId, setPatientId] = useState('');
  const [purpose, setPurpose] = useState<PurposeOfUse>('TREAT');
  const [justification, setJustification] = useState('');
  const [duration, setDuration] = useState('60');
  const [submitted, setSubmitted] = useState<AccessRequestView | null>(null);
  // One key per filled-in form, so a retry of the same submission is answered, not repeated.
  const idempotencyKey = useRef(crypto.randomUUID());

  const submit = useMutation({
    mutationFn: () =>
      api<AccessRequestView>('/api/access-requests', {
        body: {
          studyInstanceUids: studyList(studies),
          patientId: patientId.trim(),
          purposeOfUse: purpose,
          justification,
          durationMinutes: Number(duration),
        },
        headers: { 'Idempotency-Key': idempotencyKey.current },
      }),
    onSuccess: (view) => {
      setSubmitted(view);
      setStudies('');
      setPatientId('');
      setJustification('');
      idempotencyKey.current = crypto.randomUUID();
      void client.invalidateQueries({ queryKey: keys.requests });
    },
    onError: (error) => {
      // A refused submission recorded nothing: the corrected form is a new submission.
      if (error instanceof ApiError && error.status < 500) idempotencyKey.current = crypto.randomUUID();
    },
  });

  const errors = fieldErrors(submit.error, FIELDS, messageKey);
  const hasFieldErrors = Object.keys(errors).length > 0;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(null);
    submit.mutate();
  };
  const describedBy = (field: Field, hint?: string) => [hint, errors[field] ? `${id}-${field}-error` : undefined].filter(Boolean).join(' ') || undefined;
  const errorFor = (field: Field) =>
    errors[field] ? (
      <p className="field-error" id={`${id}-${field}-error`}>
        <span aria-hidden="true">! </span>
        {t(errors[field])}
      </p>
    ) : null;

  return (
    <form className="card form" onSubmit={onSubmit} noValidate aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{t('requests.form.title')}</h2>
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
        <label htmlFor={`${id}-purpose`}>{t('requests.form.purpose')}</label>
        <select
          id={`${id}-purpose`}
          value={purpose}
          onChange={(e) => setPurpose(e.target.value as PurposeOfUse)}
          aria-invalid={!!errors.purposeOfUse}
          aria-describedby={describedBy('purposeOfUse')}
        >
          {PURPOSE_CODES.map((code) => (
            <option key={code} value={code}>
              {t(`purposes.${code}`)}
            </option>
          ))}
        </select>
        {errorFor('purposeOfUse')}
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
          {t('requests.form.justificationHint')}
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
          step={1}
          value={duration}
          onChange={(e) => setDuration(e.target.value)}
          required
          aria-invalid={!!errors.durationMinutes}
          aria-describedby={describedBy('durationMinutes', `${id}-duration-hint`)}
        />
        <p className="hint" id={`${id}-duration-hint`}>
          {t('requests.form.durationHint')}
        </p>
        {errorFor('durationMinutes')}
      </div>
      {submit.isError &&
        (hasFieldErrors ? (
          <p className="error" role="alert">
            {t('requests.form.fixFields')}
          </p>
        ) : (
          <ErrorMessage error={submit.error} />
        ))}
      {submitted && (
        <p className="success" role="status">
          {t('requests.form.submitted', { id: submitted.id })}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button" disabled={submit.isPending} aria-busy={submit.isPending}>
          {t('requests.form.submit')}
        </button>
        {submit.isPending && <span role="status">{t('requests.form.submitting')}</span>}
      </div>
    </form>
  );
}
