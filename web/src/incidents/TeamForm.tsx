import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { useSession } from '../auth/session';
import { lines } from './DeclareForm';
import { incidentPath, useIncidentChange, type IncidentView } from './queries';
import { Refusal } from './Refusal';

/** Security and privacy officers name the incident team: at least two people. Meets the team clock. */
export function TeamForm({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const { user } = useSession();
  const [members, setMembers] = useState(user?.username ?? '');
  const team = useIncidentChange(incident.id, (body: { members: string[] }) => api<IncidentView>(incidentPath(incident.id, '/team'), { body }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    team.mutate({ members: lines(members) });
  };
  return (
    <form className="card incident-action" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('incidents.team.title')}</h3>
      <div className="field">
        <label htmlFor={`${id}-members`}>{t('incidents.team.members')}</label>
        <textarea
          id={`${id}-members`}
          className="mono"
          value={members}
          onChange={(e) => setMembers(e.target.value)}
          rows={3}
          required
          spellCheck={false}
          autoComplete="off"
          aria-describedby={`${id}-hint`}
        />
        <p className="hint" id={`${id}-hint`}>
          {t('incidents.team.hint')}
        </p>
      </div>
      {team.isError && <Refusal error={team.error} action="team" />}
      <div className="actions">
        <button type="submit" className="button" disabled={team.isPending} aria-busy={team.isPending}>
          {t('incidents.team.submit')}
        </button>
        {team.isPending && <span role="status">{t('incidents.sending')}</span>}
      </div>
    </form>
  );
}
