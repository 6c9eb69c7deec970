import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { incidentPath, useIncidentChange, type IncidentView } from './queries';
import { Refusal } from './Refusal';

/**
 * A security officer contains the incident: every patient, study and user in its scope is
 * frozen. It stops access at once for everyone, so the page asks for a confirmation first.
 */
export function ContainForm({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const [confirmed, setConfirmed] = useState(false);
  const contain = useIncidentChange(
    incident.id,
    () => api<IncidentView>(incidentPath(incident.id, '/containment'), { method: 'POST' }),
    () => setConfirmed(false),
  );
  const { patients, studies, users } = incident.scope;
  const targets = patients.length + studies.length + users.length;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    // The checkbox is required, so the browser stops an unconfirmed form; this stops it too.
    if (!confirmed) return;
    contain.mutate(undefined);
  };
  // Nothing to freeze yet (a declaration with an empty scope): a traced file adds what it matched.
  if (targets === 0)
    return (
      <section className="card incident-action" aria-labelledby={`${id}-title`}>
        <h3 id={`${id}-title`}>{t('incidents.contain.title')}</h3>
        <p className="hint">{t('incidents.contain.nothing')}</p>
      </section>
    );
  return (
    <form className="card incident-action" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('incidents.contain.title')}</h3>
      <div className="confirm-all">
        <p id={`${id}-warning`}>
          <span className="error-mark" aria-hidden="true">
            !
          </span>{' '}
          {t('incidents.contain.warning', { count: targets })}
        </p>
        <label className="inline">
          <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} required aria-describedby={`${id}-warning`} />{' '}
          {t('incidents.contain.confirm')}
        </label>
      </div>
      {contain.isError && <Refusal error={contain.error} action="contain" />}
      <div className="actions">
        <button type="submit" className="button danger" disabled={contain.isPending} aria-busy={contain.isPending}>
          {t('incidents.contain.submit')}
        </button>
        {contain.isPending && <span role="status">{t('incidents.contain.submitting')}</span>}
      </div>
    </form>
  );
}
