import { useTranslation } from 'react-i18next';
import type { AccessLogRow } from '../api/client';

// What one gateway request reached and what became of it, as every access table shows it.

/** Served or refused in words, not colour, with the status and the refusal's reason. */
export function AccessOutcome({ row }: { row: AccessLogRow }) {
  const { t } = useTranslation();
  return (
    <>
      <span className={`outcome outcome-${row.outcome}`}>{t(`accesses.outcome.${row.outcome}`)}</span>{' '}
      <span className="muted">
        {row.status}
        {row.reason ? ` · ${row.reason}` : ''}
      </span>
    </>
  );
}

/** The study, series and instance the request reached, one per line. */
export function AccessedObject({ row }: { row: AccessLogRow }) {
  const { t } = useTranslation();
  return (
    <>
      {row.study && <div>{row.study}</div>}
      {row.series && <div>{t('accesses.series', { uid: row.series })}</div>}
      {row.instance && <div>{t('accesses.instance', { uid: row.instance })}</div>}
    </>
  );
}
