import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { hasRole, useSession } from '../auth/session';
import { useFormat } from '../ui/format';
import { Empty, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { ClocksSummary } from './Clocks';
import { DeclareForm } from './DeclareForm';
import { IncidentStatusBadge } from './IncidentStatusBadge';
import { useIncidentList, type IncidentView } from './queries';
import { Refusal } from './Refusal';
import { useIncidentOrigin, useIncidentWording } from './words';

/**
 * Incidents: security officers declare them; security and privacy officers run them; auditors
 * read them. What each may do is the API's to decide; the page offers only what a role can use.
 */
export function IncidentsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('incidents.title'));
  const id = useId();
  const { user } = useSession();
  const incidents = useIncidentList();
  const items = incidents.data?.items ?? [];
  const canDeclare = hasRole(user, 'security_officer');
  return (
    <div className="page">
      <h1>{t('incidents.title')}</h1>
      <p className="muted page-intro">{t('incidents.intro')}</p>
      <div className={canDeclare ? 'two-columns' : undefined}>
        {canDeclare && <DeclareForm />}
        <section aria-labelledby={`${id}-list`}>
          <h2 id={`${id}-list`}>{t('incidents.list')}</h2>
          {incidents.isPending && <Loading />}
          {/* A failed refresh keeps the list it had, and says so. */}
          {incidents.isError && <Refusal error={incidents.error} action="read" onRetry={() => void incidents.refetch()} />}
          {incidents.isSuccess && items.length === 0 && <Empty>{t('incidents.empty')}</Empty>}
          <ul className="request-list">
            {items.map((incident) => (
              <IncidentSummary key={incident.id} incident={incident} />
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}

function IncidentSummary({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const origin = useIncidentOrigin();
  const { title, declaredBy } = useIncidentWording()(incident);
  return (
    <li className="request-item incident-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h3 id={`${id}-title`}>
          <Link to={`/incidents/${encodeURIComponent(incident.id)}`}>{title}</Link>
        </h3>
        <IncidentStatusBadge status={incident.status} />
      </div>
      <dl className="details">
        <dt>{t('incidents.originLabel')}</dt>
        <dd>{origin(incident)}</dd>
        <dt>{t('incidents.declaredBy')}</dt>
        <dd>{t('incidents.byAt', { by: declaredBy, when: format.dateTime(incident.declaredAt) })}</dd>
        <dt>{t('incidents.clocks.title')}</dt>
        <dd>
          <ClocksSummary clocks={incident.clocks} />
        </dd>
      </dl>
    </li>
  );
}
