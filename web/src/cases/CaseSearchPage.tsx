import { useInfiniteQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ACCESS_REQUEST_STATUSES, PURPOSES_OF_USE } from '../../../domain/access-request';
import { api, ApiError, query, type AccessRequestView, type Page } from '../api/client';
import { keys } from '../api/queries';
import { StatusBadge } from '../ui/StatusBadge';
import { localInputToIso, useFormat } from '../ui/format';
import { Empty, ErrorMessage, Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';

const TEXT_FILTERS = ['requester', 'reviewer', 'study', 'patient'] as const;
type Filters = Record<(typeof TEXT_FILTERS)[number] | 'status' | 'purpose' | 'from' | 'to', string>;
const EMPTY: Filters = { requester: '', reviewer: '', study: '', patient: '', status: '', purpose: '', from: '', to: '' };

export function CaseSearchPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('cases.title'));
  const id = useId();
  const format = useFormat();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const search = useInfiniteQuery({
    queryKey: keys.cases(filters),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      api<Page<AccessRequestView>>(
        `/api/cases${query({
          requester: filters.requester.trim(),
          reviewer: filters.reviewer.trim(),
          study: filters.study.trim(),
          patient: filters.patient.trim(),
          status: filters.status,
          purpose: filters.purpose,
          from: localInputToIso(filters.from),
          to: localInputToIso(filters.to),
          limit: 50,
          cursor: pageParam,
        })}`,
        { signal },
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = search.data?.pages.flatMap((page) => page.items) ?? [];
  // The API names each refused filter by its query key, which is also our filter's name.
  const refused = search.error instanceof ApiError ? search.error.errors.map((e) => e.path).filter((path): path is keyof Filters => path in EMPTY) : [];
  const set = (key: keyof Filters) => (event: { target: { value: string } }) => setDraft((d) => ({ ...d, [key]: event.target.value }));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };

  return (
    <div className="page">
      <h1>{t('cases.title')}</h1>
      <form className="card filters" onSubmit={onSubmit} aria-label={t('cases.filters')}>
        {TEXT_FILTERS.map((key) => (
          <div className="field" key={key}>
            <label htmlFor={`${id}-${key}`}>{t(`cases.filter.${key}`)}</label>
            <input id={`${id}-${key}`} value={draft[key]} onChange={set(key)} autoComplete="off" spellCheck={false} aria-invalid={refused.includes(key)} />
          </div>
        ))}
        <div className="field">
          <label htmlFor={`${id}-status`}>{t('cases.filter.status')}</label>
          <select id={`${id}-status`} value={draft.status} onChange={set('status')}>
            <option value="">{t('cases.filter.any')}</option>
            {ACCESS_REQUEST_STATUSES.map((status) => (
              <option key={status} value={status}>
                {t(`status.${status}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-purpose`}>{t('cases.filter.purpose')}</label>
          <select id={`${id}-purpose`} value={draft.purpose} onChange={set('purpose')}>
            <option value="">{t('cases.filter.any')}</option>
            {Object.keys(PURPOSES_OF_USE).map((code) => (
              <option key={code} value={code}>
                {t(`purposes.${code}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-from`}>{t('cases.filter.from')}</label>
          <input id={`${id}-from`} type="datetime-local" value={draft.from} onChange={set('from')} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>{t('cases.filter.to')}</label>
          <input id={`${id}-to`} type="datetime-local" value={draft.to} onChange={set('to')} />
        </div>
        <div className="actions">
          <button type="submit" className="button">
            {t('cases.search')}
          </button>
          <button
            type="button"
            className="button secondary"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            {t('cases.clear')}
          </button>
        </div>
      </form>
      <section aria-labelledby={`${id}-results`}>
        <h2 id={`${id}-results`}>{t('cases.results')}</h2>
        {search.isPending && <Loading />}
        {search.isError &&
          (refused.length > 0 ? (
            <p className="error" role="alert">
              {t('cases.refusedFilters', { filters: format.list(refused.map((key) => t(`cases.filter.${key}`))) })}
            </p>
          ) : (
            <ErrorMessage error={search.error} onRetry={() => void search.refetch()} />
          ))}
        {search.isSuccess && rows.length === 0 && <Empty>{t('cases.none')}</Empty>}
        {rows.length > 0 && (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('cases.col.submitted')}</th>
                  <th scope="col">{t('cases.col.requester')}</th>
                  <th scope="col">{t('cases.col.patient')}</th>
                  <th scope="col">{t('cases.col.purpose')}</th>
                  <th scope="col">{t('cases.col.status')}</th>
                  <th scope="col">{t('cases.col.case')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={row.id}>
                    <td>{format.dateTime(row.submittedAt)}</td>
                    <td>{row.requester}</td>
                    <td className="mono">{row.patientId}</td>
                    <td>{t(`purposes.${row.purposeOfUse}`)}</td>
                    <td>
                      <StatusBadge status={row.status} />
                    </td>
                    <td>
                      <Link to={`/cases/${encodeURIComponent(row.id)}`}>{t('cases.open', { id: row.id.slice(0, 8) })}</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {search.hasNextPage && (
          <button type="button" className="button secondary" onClick={() => void search.fetchNextPage()} disabled={search.isFetchingNextPage}>
            {t('cases.more')}
          </button>
        )}
      </section>
    </div>
  );
}
