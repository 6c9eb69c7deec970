import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { hasRole, useSession } from '../auth/session';
import { useFormat } from '../ui/format';
import { Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { ClocksTable } from './Clocks';
import { ContainForm } from './ContainForm';
import { IncidentStatusBadge } from './IncidentStatusBadge';
import { Notifications } from './Notifications';
import { NotifyForm } from './NotifyForm';
import { useIncident, type IncidentDetail } from './queries';
import { Refusal } from './Refusal';
import { ReportLinks } from './ReportLinks';
import { SignOffForm } from './SignOffForm';
import { TeamForm } from './TeamForm';
import { Traces } from './Traces';
import { useIncidentOrigin, useIncidentWording } from './words';

/**
 * One incident: what it is about and touches, its five clocks, what has been done (team,
 * containment, notifications, traces, sign-offs) and, for those who run it, what is left to do.
 */
export function IncidentPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const incident = useIncident(id);
  const wording = useIncidentWording();
  useDocumentTitle(incident.data ? t('incidents.pageTitle', { title: wording(incident.data).title }) : t('incidents.title'));
  return (
    <div className="page incident-page">
      <p>
        <Link to="/incidents">{t('incidents.back')}</Link>
      </p>
      {incident.isPending && <Loading />}
      {incident.isError && !incident.data && <Refusal error={incident.error} action="read" onRetry={() => void incident.refetch()} />}
      {incident.data && <IncidentBody incident={incident.data} />}
    </div>
  );
}

function IncidentBody({ incident }: { incident: IncidentDetail }) {
  const { t } = useTranslation();
  const id = useId();
  const { user } = useSession();
  const open = incident.status === 'OPEN';
  const officer = hasRole(user, 'security_officer', 'privacy_officer');
  const security = hasRole(user, 'security_officer');
  const actions = [
    open && officer && incident.team.length === 0 && <TeamForm key="team" incident={incident} />,
    open && security && !incident.containment && <ContainForm key="contain" incident={incident} />,
    open && officer && <NotifyForm key="notify" incident={incident} />,
    // Only a contained incident can be signed off, and by a second person after the first: the
    // sign-offs line above says who signed and what is missing.
    open && officer && incident.containment && incident.signOff?.by !== user?.username && <SignOffForm key="sign-off" incident={incident} />,
  ].filter(Boolean);
  const { title } = useIncidentWording()(incident);
  return (
    <>
      <div className="request-head">
        <h1>{title}</h1>
        <IncidentStatusBadge status={incident.status} />
      </div>
      <About incident={incident} />
      <Scope incident={incident} />
      <ClocksTable clocks={incident.clocks} />
      {actions.length > 0 && (
        <section aria-labelledby={`${id}-actions`} className="incident-actions-section">
          <h2 id={`${id}-actions`}>{t('incidents.actions')}</h2>
          <div className="incident-actions">{actions}</div>
        </section>
      )}
      <Notifications notifications={incident.notifications} />
      <Traces incident={incident} canTrace={open && officer} />
      <ReportLinks incidentId={incident.id} canExport={hasRole(user, 'auditor')} />
    </>
  );
}

/** Who declared it and why, the team, containment, and where the two sign-offs stand. */
function About({ incident }: { incident: IncidentDetail }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const origin = useIncidentOrigin();
  const { description, declaredBy } = useIncidentWording()(incident);
  const none = t('incidents.none');
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.about')}</h2>
      <dl className="details">
        <dt>{t('incidents.description')}</dt>
        <dd className="prewrap">{description || none}</dd>
        <dt>{t('incidents.originLabel')}</dt>
        <dd>{origin(incident)}</dd>
        <dt>{t('incidents.declaredBy')}</dt>
        <dd>{t('incidents.byAt', { by: declaredBy, when: format.dateTime(incident.declaredAt) })}</dd>
        <dt>{t('incidents.windowFrom')}</dt>
        <dd>{format.dateTime(incident.windowFrom)}</dd>
        <dt>{t('incidents.teamLabel')}</dt>
        <dd>{incident.team.length ? format.list(incident.team) : t('incidents.noTeam')}</dd>
        <dt>{t('incidents.containment')}</dt>
        <dd>
          {incident.containment
            ? t('incidents.containedAt', { when: format.dateTime(incident.containment.containedAt), count: incident.containment.freezeIds.length })
            : t('incidents.notContained')}
          {incident.containment && (
            <>
              {' '}
              <Link to="/freezes">{t('incidents.seeFreezes')}</Link>
            </>
          )}
        </dd>
        <dt>{t('incidents.signOffs')}</dt>
        <dd className="sign-offs">
          {incident.closedAt ? (
            t('incidents.closedBy', { by: format.list(incident.closedBy), when: format.dateTime(incident.closedAt) })
          ) : incident.signOff ? (
            <>
              {t('incidents.firstSignOff', { by: incident.signOff.by, when: format.dateTime(incident.signOff.at) })}
              <q className="comment prewrap">{incident.signOff.comment}</q>
              <strong className="second-needed">{t('incidents.secondNeeded')}</strong>
            </>
          ) : (
            t('incidents.noSignOff')
          )}
        </dd>
      </dl>
    </section>
  );
}

/** What the declaration named, and what the records say was reached within it since the window's start. */
function Scope({ incident }: { incident: IncidentDetail }) {
  const { t } = useTranslation();
  const id = useId();
  const groups = [
    ['patients', incident.scope.patients],
    ['studies', incident.scope.studies],
    ['users', incident.scope.users],
    ['affectedPatients', incident.affectedPatients],
    ['affectedStudies', incident.affectedStudies],
  ] as const;
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.scope.title')}</h2>
      <dl className="details">
        {groups.map(([key, values]) => (
          <div key={key} className="details-row">
            <dt>{t(`incidents.scope.${key}`)}</dt>
            <dd>
              {values.length === 0 ? (
                t('incidents.none')
              ) : (
                <ul className="plain">
                  {values.map((value) => (
                    <li key={value} className="uid">
                      {value}
                    </li>
                  ))}
                </ul>
              )}
            </dd>
          </div>
        ))}
      </dl>
      <p className="hint">{t('incidents.scope.affectedHint')}</p>
    </section>
  );
}
