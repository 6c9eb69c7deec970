import { useMutation } from '@tanstack/react-query';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { Loading } from '../ui/status';
import { downloadFrom, incidentPath } from './queries';
import { Refusal } from './Refusal';
import { useReportLanguage } from './words';

type Download = 'json' | 'html' | 'pdf' | 'evidence';

/**
 * The investigation report (JSON, printable HTML and PDF, in the page's language) and, for
 * auditors, the signed evidence bundle. Each is fetched with the bearer token and handed to the
 * browser as a file: the printable HTML opens from the file, outside this page's security policy.
 */
export function ReportLinks({ incidentId, canExport }: { incidentId: string; canExport: boolean }) {
  const { t } = useTranslation();
  const id = useId();
  const lang = useReportLanguage();
  const files: Record<Download, { path: string; name: string }> = {
    json: { path: incidentPath(incidentId, '/report?format=json'), name: `${incidentId}.report.json` },
    html: { path: incidentPath(incidentId, `/report?format=html&lang=${lang}`), name: `${incidentId}.report.${lang}.html` },
    pdf: { path: incidentPath(incidentId, `/report?format=pdf&lang=${lang}`), name: `${incidentId}.report.${lang}.pdf` },
    evidence: { path: incidentPath(incidentId, '/evidence'), name: `${incidentId}.evidence.json` },
  };
  const download = useMutation({ mutationFn: (what: Download) => downloadFrom(files[what].path, files[what].name) });
  const shown: Download[] = canExport ? ['json', 'html', 'pdf', 'evidence'] : ['json', 'html', 'pdf'];
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.report.title')}</h2>
      <p className="hint">{t('incidents.report.intro')}</p>
      <div className="actions">
        {shown.map((what) => (
          <button
            key={what}
            type="button"
            className={what === 'evidence' ? 'button' : 'button secondary'}
            onClick={() => download.mutate(what)}
            disabled={download.isPending}
          >
            {t(`incidents.report.${what}`)}
          </button>
        ))}
      </div>
      {download.isPending && <Loading label={t('incidents.report.preparing')} />}
      {download.isError && <Refusal error={download.error} action={download.variables === 'evidence' ? 'evidence' : 'report'} />}
      {download.isSuccess && (
        <p className="success" role="status">
          {t('incidents.report.saved', { file: files[download.variables].name })}
        </p>
      )}
    </section>
  );
}
