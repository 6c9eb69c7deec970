import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, apiResponse, type ReplayReport, type Timeline, type TimelineEntry } from '../api/client';
import { keys, useRequest, useWebConfig } from '../api/queries';
import type { ImageAccessLinkState } from '../accesses/ImageAccessPage';
import { RequestDetails } from '../ui/RequestDetails';
import { StatusBadge } from '../ui/StatusBadge';
import { useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { download } from '../ui/download';

/** The Temporal Web UI's page for a case's workflow (its id is the request id). */
function temporalLink(base: string, caseId: string): string {
  const root = base.replace(/\/+$/, '');
  const namespace = root.includes('/namespaces/') ? root : `${root}/namespaces/default`;
  return `${namespace}/workflows/${encodeURIComponent(caseId)}`;
}

export function CasePage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  useDocumentTitle(t('cases.caseTitle', { id }));
  const request = useRequest(id);
  const config = useWebConfig();
  const timeline = useQuery({
    queryKey: keys.timeline(id),
    queryFn: ({ signal }) => api<Timeline>(`/api/cases/${encodeURIComponent(id)}/timeline`, { signal }),
  });
  const replay = useMutation({
    mutationFn: () => api<ReplayReport>(`/api/cases/${encodeURIComponent(id)}/replay`),
  });
  const evidence = useMutation({
    mutationFn: async () => {
      const response = await apiResponse(`/api/cases/${encodeURIComponent(id)}/evidence`);
      download(await response.blob(), `${id}.evidence.json`);
    },
  });

  return (
    <div className="page">
      <p>
        <Link to="/cases">{t('cases.back')}</Link>
      </p>
      <h1>{t('cases.caseTitle', { id })}</h1>
      {request.isPending && <Loading />}
      {request.isError && <ErrorMessage error={request.error} onRetry={() => void request.refetch()} />}
      {request.data && (
        <section className="card" aria-labelledby="case-details">
          <div className="request-head">
            <h2 id="case-details">{t('cases.details')}</h2>
            <StatusBadge status={request.data.status} />
          </div>
          <RequestDetails request={request.data} showRequester />
          <p>
            <Link to="/image-accesses" state={{ subject: 'patient', value: request.data.patientId } satisfies ImageAccessLinkState}>
              {t('cases.accessesOfPatient')}
            </Link>
          </p>
        </section>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={() => evidence.mutate()} disabled={evidence.isPending}>
          {t('cases.evidence')}
        </button>
        <button type="button" className="button secondary" onClick={() => replay.mutate()} disabled={replay.isPending}>
          {t('cases.replay')}
        </button>
        {config.data?.temporalUiUrl && (
          <a className="button secondary" href={temporalLink(config.data.temporalUiUrl, id)} target="_blank" rel="noreferrer noopener">
            {t('cases.temporal')}
          </a>
        )}
      </div>
      {evidence.isPending && <Loading label={t('cases.evidencePreparing')} />}
      {evidence.isError && <ErrorMessage error={evidence.error} />}
      {evidence.isSuccess && (
        <p className="success" role="status">
          {t('cases.evidenceSaved', { file: `${id}.evidence.json` })}
        </p>
      )}
      {replay.isPending && <Loading label={t('cases.replaying')} />}
      {replay.isError && <ErrorMessage error={replay.error} onRetry={() => replay.mutate()} />}
      {replay.data && <ReplayResult report={replay.data} />}
      <section className="card" aria-labelledby="case-timeline">
        <h2 id="case-timeline">{t('cases.timeline')}</h2>
        {timeline.isPending && <Loading />}
        {timeline.isError && <ErrorMessage error={timeline.error} onRetry={() => void timeline.refetch()} />}
        {timeline.data && (
          <>
            <p className="muted">{t(`cases.historySource.${timeline.data.historySource}`)}</p>
            {timeline.data.entries.length === 0 ? <Empty>{t('cases.noEntries')}</Empty> : <TimelineList entries={timeline.data.entries} />}
          </>
        )}
      </section>
    </div>
  );
}

/** What replaying the recorded history with today's workflow code found, in words. */
function ReplayResult({ report }: { report: ReplayReport }) {
  const { t } = useTranslation();
  const reproduced = report.result === 'reproduced';
  return (
    <section className={`card replay-result ${reproduced ? 'success' : 'error'}`} aria-labelledby="case-replay">
      <h2 id="case-replay">{t('cases.replayTitle')}</h2>
      <p role="status">
        <strong>{t(`cases.replayResult.${report.result}`)}</strong>
      </p>
      <p>
        {t('cases.replayFacts', {
          events: report.events,
          source: t(`cases.replaySource.${report.source ?? 'live'}`),
          outcome: report.recordedOutcome ? t(`status.${report.recordedOutcome}`, { defaultValue: report.recordedOutcome }) : t('cases.replayNoOutcome'),
        })}
      </p>
      {report.detail && <pre>{report.detail}</pre>}
    </section>
  );
}

// The outcome of a review: the approval that completed a case says it made it ACTIVE.
const FACT_KEYS = ['decision', 'outcome', 'status', 'reason', 'activity', 'study'] as const;

/** The codes an entry carries (decision, outcome, HTTP status, reason, activity, study), labelled in the page's language. */
function TimelineFacts({ entry }: { entry: TimelineEntry }) {
  const { t, i18n } = useTranslation();
  // A decision or a request status is said in words; codes without a message (HTTP status, reason, step) stay codes.
  const say = (key: string, value: string) => {
    const message = key === 'decision' ? `timeline.decision.${value}` : key === 'status' || key === 'outcome' ? `status.${value}` : null;
    return message && i18n.exists(message) ? t(message) : <code>{value}</code>;
  };
  const facts = FACT_KEYS.flatMap((key) => {
    const value = entry.detail[key];
    return typeof value === 'string' || typeof value === 'number' ? [[key, String(value)] as const] : [];
  });
  if (facts.length === 0) return null;
  return (
    <span className="facts">
      {facts.map(([key, value]) => (
        <span key={key} className="fact">
          {t(`timeline.fact.${key}`)} {say(key, value)}
        </span>
      ))}
    </span>
  );
}

function TimelineList({ entries }: { entries: TimelineEntry[] }) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const english = (i18n.resolvedLanguage ?? i18n.language).startsWith('en');
  return (
    <ol className="timeline">
      {entries.map((entry, index) => {
        const kindKey = `timeline.kind.${entry.kind}`;
        return (
          <li key={`${entry.at}-${index}`} className={`timeline-entry source-${entry.source}`}>
            <time dateTime={entry.at}>{format.dateTime(entry.at)}</time>
            <span className="source-tag">{t(`timeline.source.${entry.source}`)}</span>
            <span className="kind">{i18n.exists(kindKey) ? t(kindKey) : entry.kind}</span>
            {entry.actor && <span className="actor">{t('timeline.by', { actor: entry.actor })}</span>}
            <TimelineFacts entry={entry} />
            {/* The server's summary is English prose; other languages get the facts above. */}
            {english && <span className="summary">{entry.summary}</span>}
          </li>
        );
      })}
    </ol>
  );
}
