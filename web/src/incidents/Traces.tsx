import { useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../auth/session';
import { useFormat } from '../ui/format';
import { Empty } from '../ui/status';
import { leakedFileMaxBytes, leakedFileType, traceLeakedFile, useIncidentChange, type IncidentView, type TraceView } from './queries';
import { Refusal } from './Refusal';

/** Leaked files traced back to the serving they came from, and (for those who run the incident) the form to trace another. */
export function Traces({ incident, canTrace }: { incident: IncidentView; canTrace: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.traces.title')}</h2>
      <p className="hint">{t('incidents.traces.intro')}</p>
      {canTrace && <TraceForm incident={incident} />}
      {incident.traces.length === 0 ? (
        <Empty>{t('incidents.traces.empty')}</Empty>
      ) : (
        <ul className="request-list traces">
          {[...incident.traces].reverse().map((trace) => (
            <TraceItem key={trace.id} trace={trace} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TraceForm({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const { token, signOut } = useSession();
  const input = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [fileProblem, setFileProblem] = useState<'type' | 'size' | null>(null);
  const trace = useIncidentChange(
    incident.id,
    (leaked: File) => traceLeakedFile(incident.id, leaked, token, () => signOut('expired')),
    () => {
      setFile(null);
      if (input.current) input.current.value = '';
    },
  );
  const onChoose = (chosen: File | null) => {
    trace.reset();
    setFile(chosen);
    setFileProblem(chosen && !leakedFileType(chosen) ? 'type' : chosen && chosen.size > leakedFileMaxBytes(leakedFileType(chosen)) ? 'size' : null);
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (!file || fileProblem) return;
    trace.mutate(file);
  };
  return (
    <form className="trace-form" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('incidents.traces.formTitle')}</h3>
      <div className="field">
        <label htmlFor={`${id}-file`}>{t('incidents.traces.file')}</label>
        <input
          ref={input}
          id={`${id}-file`}
          type="file"
          accept="image/jpeg,image/png,application/dicom,.dcm"
          onChange={(e) => onChoose(e.target.files?.[0] ?? null)}
          required
          aria-invalid={fileProblem !== null}
          aria-describedby={`${id}-hint${fileProblem ? ` ${id}-error` : ''}`}
        />
        <p className="hint" id={`${id}-hint`}>
          {t('incidents.traces.fileHint')}
        </p>
        {fileProblem && (
          <p className="field-error" id={`${id}-error`}>
            {t(`incidents.traces.fileProblem.${fileProblem}`)}
          </p>
        )}
      </div>
      {trace.isError && <Refusal error={trace.error} action="trace" />}
      {trace.isSuccess && (
        <p className="success" role="status">
          {t('incidents.traces.done')}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button" disabled={trace.isPending || !file || fileProblem !== null} aria-busy={trace.isPending}>
          {t('incidents.traces.submit')}
        </button>
        {trace.isPending && <span role="status">{t('incidents.traces.tracing')}</span>}
      </div>
    </form>
  );
}

function TraceItem({ trace }: { trace: TraceView }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const match = trace.matched;
  const none = t('incidents.none');
  return (
    <li className="request-item trace-item" aria-labelledby={`${id}-title`}>
      <div className="request-head">
        <h3 id={`${id}-title`}>{t(`incidents.traces.kind.${trace.kind}`)}</h3>
        <span className={`badge ${match ? 'trace-matched' : 'trace-unmatched'}`}>{match ? t('incidents.traces.matched') : t('incidents.traces.noMatch')}</span>
      </div>
      <dl className="details">
        <dt>{t('incidents.traces.sha256')}</dt>
        <dd>
          <code className="uid">{trace.fileSha256}</code>
        </dd>
        <dt>{t('incidents.traces.tracedBy')}</dt>
        <dd>{t('incidents.byAt', { by: trace.tracedBy, when: format.dateTime(trace.tracedAt) })}</dd>
        {match ? (
          <>
            <dt>{t('incidents.traces.viewer')}</dt>
            <dd>{match.username ?? none}</dd>
            <dt>{t('incidents.traces.grant')}</dt>
            <dd className="uid">{match.grantId ?? none}</dd>
            <dt>{t('incidents.traces.servedAt')}</dt>
            <dd>
              <time dateTime={match.occurredAt}>{format.dateTime(match.occurredAt)}</time>
            </dd>
            <dt>{t('incidents.traces.study')}</dt>
            <dd className="uid">{match.study ?? none}</dd>
            <dt>{t('incidents.traces.instance')}</dt>
            <dd className="uid">{match.instance ?? none}</dd>
            <dt>{t('incidents.traces.servingId')}</dt>
            <dd className="uid">
              <code>{match.servingId}</code>
            </dd>
          </>
        ) : null}
        <dt>{t('incidents.traces.detail')}</dt>
        <dd className="prewrap" lang="en">
          {trace.detail}
        </dd>
      </dl>
    </li>
  );
}
