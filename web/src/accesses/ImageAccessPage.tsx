import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { AccessedObject, AccessOutcome } from '../ui/AccessCells';
import { Link, useLocation } from 'react-router';
import { api, ApiError, query, type AccessLog } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { localInputToIso, useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';

type Subject = 'study' | 'patient';
interface Search {
  subject: Subject;
  value: string;
  from: string;
  to: string;
}

/** What a link to this page may carry: a study or a patient to show at once. */
export type ImageAccessLinkState = { subject: Subject; value: string };

function initialSearch(state: unknown): Search | null {
  const handed = state as Partial<ImageAccessLinkState> | null;
  if (!handed || (handed.subject !== 'study' && handed.subject !== 'patient') || typeof handed.value !== 'string') return null;
  return { subject: handed.subject, value: handed.value, from: '', to: '' };
}

/** "Who accessed this study / this patient": every gateway request, served or refused, in a time window. */
export function ImageAccessPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('accesses.title'));
  const id = useId();
  const format = useFormat();
  const { user } = useSession();
  // A link from a case hands over the patient in the page's state, never in the address,
  // where it would stay in the browser's history.
  const handed = initialSearch(useLocation().state);
  const [draft, setDraft] = useState<Search>(handed ?? { subject: 'study', value: '', from: '', to: '' });
  const [search, setSearch] = useState<Search | null>(handed);
  const log = useQuery({
    queryKey: ['image-accesses', search],
    enabled: search !== null,
    queryFn: ({ signal }) => {
      const { subject, value, from, to } = search!;
      const params = { [subject]: value.trim(), from: localInputToIso(from), to: localInputToIso(to), limit: 500 };
      return api<AccessLog>(`/api/image-accesses${query(params)}`, { signal });
    },
  });
  const refused = log.error instanceof ApiError ? log.error.errors.map((e) => e.path) : [];
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setSearch({ ...draft });
  };
  const rows = log.data?.items ?? [];

  return (
    <div className="page">
      <h1>{t('accesses.title')}</h1>
      <p className="muted">{t('accesses.intro')}</p>
      <form className="card filters" onSubmit={onSubmit} aria-label={t('accesses.form')}>
        <fieldset className="field">
          <legend>{t('accesses.subject')}</legend>
          {(['study', 'patient'] as const).map((subject) => (
            <label key={subject} className="inline">
              <input
                type="radio"
                name={`${id}-subject`}
                value={subject}
                checked={draft.subject === subject}
                onChange={() => setDraft((d) => ({ ...d, subject }))}
              />{' '}
              {t(`accesses.by.${subject}`)}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={`${id}-value`}>{t(`accesses.value.${draft.subject}`)}</label>
          <input
            id={`${id}-value`}
            value={draft.value}
            onChange={(e) => setDraft((d) => ({ ...d, value: e.target.value }))}
            required
            autoComplete="off"
            spellCheck={false}
            aria-invalid={refused.includes(draft.subject)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>{t('accesses.from')}</label>
          <input
            id={`${id}-from`}
            type="datetime-local"
            value={draft.from}
            onChange={(e) => setDraft((d) => ({ ...d, from: e.target.value }))}
            aria-invalid={refused.includes('from')}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>{t('accesses.to')}</label>
          <input
            id={`${id}-to`}
            type="datetime-local"
            value={draft.to}
            onChange={(e) => setDraft((d) => ({ ...d, to: e.target.value }))}
            aria-invalid={refused.includes('from') || refused.includes('to')}
          />
        </div>
        <div className="actions">
          <button type="submit" className="button">
            {t('accesses.search')}
          </button>
        </div>
      </form>
      {search && (
        <section aria-labelledby={`${id}-results`}>
          <h2 id={`${id}-results`}>{t('accesses.results')}</h2>
          {log.isPending && <Loading />}
          {log.isError &&
            (refused.length > 0 ? (
              <p className="error" role="alert">
                {t('accesses.refused')}
              </p>
            ) : (
              <ErrorMessage error={log.error} onRetry={() => void log.refetch()} />
            ))}
          {log.isSuccess && rows.length === 0 && <Empty>{t('accesses.none')}</Empty>}
          {log.data?.truncated && (
            <p className="notice" role="status">
              {t('accesses.truncated', { count: rows.length })}
            </p>
          )}
          {rows.length > 0 && (
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">{t('accesses.caption', { count: rows.length })}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('accesses.col.at')}</th>
                    <th scope="col">{t('accesses.col.user')}</th>
                    <th scope="col">{t('accesses.col.outcome')}</th>
                    <th scope="col">{t('accesses.col.what')}</th>
                    <th scope="col">{t('accesses.col.grant')}</th>
                    <th scope="col">{t('accesses.col.token')}</th>
                    <th scope="col">{t('accesses.col.client')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row, index) => (
                    <tr key={`${row.at}-${row.jti ?? ''}-${index}`}>
                      <td>
                        <time dateTime={row.at}>{format.dateTime(row.at)}</time>
                      </td>
                      <td>{row.username ?? t('accesses.unknownUser')}</td>
                      <td>
                        <AccessOutcome row={row} />
                      </td>
                      <td className="mono">
                        {row.route}
                        <AccessedObject row={row} />
                      </td>
                      <td>
                        {row.grantId ? (
                          hasRole(user, 'auditor') ? (
                            <Link to={`/cases/${encodeURIComponent(row.grantId)}`}>{row.grantId.slice(0, 11)}</Link>
                          ) : (
                            <span className="mono">{row.grantId.slice(0, 11)}</span>
                          )
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="mono">{row.jti ? row.jti.slice(0, 8) : '—'}</td>
                      <td className="mono">{row.clientIp ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      )}
    </div>
  );
}
