import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { incidentPath, useIncidentChange, type IncidentView } from './queries';
import { Refusal } from './Refusal';

/**
 * Closing takes two sign-offs by different people, a security officer among them, once the
 * incident is contained. The form says who signed first; the server decides who may sign.
 */
export function SignOffForm({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const [comment, setComment] = useState('');
  const signOff = useIncidentChange(
    incident.id,
    (body: { comment: string }) => api<IncidentView>(incidentPath(incident.id, '/sign-offs'), { body }),
    () => setComment(''),
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    signOff.mutate({ comment });
  };
  return (
    <form className="card incident-action" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('incidents.signOff.title')}</h3>
      <p className="hint" id={`${id}-hint`}>
        {t('incidents.signOff.hint')}
      </p>
      <div className="field">
        <label htmlFor={`${id}-comment`}>{t('incidents.signOff.comment')}</label>
        <textarea
          id={`${id}-comment`}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          rows={2}
          required
          minLength={3}
          aria-describedby={`${id}-hint`}
        />
      </div>
      {signOff.isError && <Refusal error={signOff.error} action="signOff" />}
      <div className="actions">
        <button type="submit" className="button" disabled={signOff.isPending} aria-busy={signOff.isPending}>
          {incident.signOff ? t('incidents.signOff.submitSecond') : t('incidents.signOff.submit')}
        </button>
        {signOff.isPending && <span role="status">{t('incidents.sending')}</span>}
      </div>
    </form>
  );
}
