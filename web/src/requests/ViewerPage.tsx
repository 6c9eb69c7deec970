import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { useRequest, useWebConfig } from '../api/queries';
import { StatusBadge } from '../ui/StatusBadge';
import { useFormat } from '../ui/format';
import { ErrorMessage, Loading } from '../ui/status';
import { useNow } from '../ui/useNow';
import { dicomValue, dicomWebRoot, usePacsToken, type PacsTokenState } from './pacs';
import { useDocumentTitle } from '../ui/useDocumentTitle';

type DicomJson = Record<string, { Value?: unknown[] } | undefined>[];

/**
 * CT window presets (centre, width in Hounsfield units), sent as DICOMweb's `window` to the
 * gateway's rendered route, which passes it to the PACS; the watermark is drawn on what comes
 * back. `linear` only: Orthanc's DICOMweb plugin 1.7 computes `linear-exact` half a window off.
 * Grey-scale modalities without a Hounsfield scale keep the PACS's full-range rendering.
 */
export const CT_WINDOWS = {
  softTissue: [40, 400],
  lung: [-600, 1500],
  bone: [400, 1800],
  brain: [40, 80],
} as const;
type WindowPreset = keyof typeof CT_WINDOWS | 'full';

function isGrantStop(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 'GRANT_NOT_ACTIVE' || error.code === 'NOT_ACTIVE');
}

export function ViewerPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  useDocumentTitle(t('viewer.documentTitle'));
  const request = useRequest(id);
  const config = useWebConfig();
  const status = request.data?.status;
  const [gatewayStop, setGatewayStop] = useState<unknown>(null);
  const running = status === 'ACTIVE' && !gatewayStop;
  const pacs = usePacsToken(id, running);
  const stoppedBy = gatewayStop ?? (isGrantStop(pacs.error) ? pacs.error : null);

  if (request.isPending || config.isPending) return <Loading />;
  if (request.isError) return <ErrorMessage error={request.error} onRetry={() => void request.refetch()} />;
  if (config.isError) return <ErrorMessage error={config.error} onRetry={() => void config.refetch()} />;
  const view = request.data;
  const root = config.data.gatewayUrl ? dicomWebRoot(config.data.gatewayUrl) : null;

  return (
    <div className="page viewer-page">
      <p>
        <Link to="/requests">{t('viewer.back')}</Link>
      </p>
      <h1>{t('viewer.title', { patient: view.patientId })}</h1>
      <p>
        {t('viewer.status')} <StatusBadge status={view.status} live />
      </p>
      {view.kind === 'break-glass' && <p className="notice break-glass-notice">{t('breakGlass.viewerNotice')}</p>}
      {view.status !== 'ACTIVE' || stoppedBy ? (
        <div className="stopped" role="alert">
          <h2>{t('viewer.stopped.title')}</h2>
          <p>
            {view.status !== 'ACTIVE' ? t(`viewer.stopped.${view.status}`, { defaultValue: t('viewer.stopped.notActive') }) : t('viewer.stopped.notActive')}
          </p>
        </div>
      ) : root === null ? (
        <p className="error" role="alert">
          {t('viewer.noGateway')}
        </p>
      ) : (
        <>
          <TokenLine expiresAt={pacs.expiresAt} grantEnds={view.grant?.expiresAt ?? null} />
          {pacs.error !== null && <ErrorMessage error={pacs.error} />}
          {pacs.ready &&
            view.studyInstanceUids.map((study) => (
              <StudyViewer key={study} root={root} study={study} gateway={pacs.fetch} onStop={(error) => setGatewayStop(error)} />
            ))}
          {!pacs.ready && pacs.error === null && <Loading label={t('viewer.obtainingToken')} />}
        </>
      )}
    </div>
  );
}

function TokenLine({ expiresAt, grantEnds }: { expiresAt: number | null; grantEnds: string | null }) {
  const { t } = useTranslation();
  const format = useFormat();
  const now = useNow();
  return (
    <p className="muted">
      {grantEnds && t('viewer.grantEnds', { time: format.countdown(new Date(grantEnds).getTime() - now) })}{' '}
      {expiresAt && t('viewer.tokenRenews', { time: format.countdown(expiresAt - now) })}
    </p>
  );
}

type GatewayFetch = PacsTokenState['fetch'];

interface StudyViewerProps {
  root: string;
  study: string;
  gateway: GatewayFetch;
  onStop: (error: unknown) => void;
}

function StudyViewer({ root, study, gateway, onStop }: StudyViewerProps) {
  const { t } = useTranslation();
  const studyUrl = `${root}/studies/${encodeURIComponent(study)}`;
  const series = useQuery({
    queryKey: ['pacs', study, 'series'],
    queryFn: async ({ signal }) => {
      const response = await gateway(`${studyUrl}/series`, 'application/dicom+json', signal);
      const items = (await response.json()) as DicomJson;
      return items
        .map((item) => ({
          uid: dicomValue(item, '0020000E') ?? '',
          number: Number(dicomValue(item, '00200011') ?? 0),
          modality: dicomValue(item, '00080060') ?? '',
          description: dicomValue(item, '0008103E') ?? '',
        }))
        .filter((s) => s.uid)
        .sort((a, b) => a.number - b.number);
    },
    retry: false,
    gcTime: 0,
  });
  const [selected, setSelected] = useState<string | null>(null);
  const current = selected ?? series.data?.[0]?.uid ?? null;

  useEffect(() => {
    if (isGrantStop(series.error)) onStop(series.error);
  }, [series.error, onStop]);

  return (
    <section className="card study" aria-label={t('viewer.study', { uid: study })}>
      <h2 className="mono uid">{t('viewer.study', { uid: study })}</h2>
      {series.isPending && <Loading />}
      {series.isError && <ErrorMessage error={series.error} onRetry={() => void series.refetch()} />}
      {series.data && (
        <div className="viewer">
          <div className="series-list">
            <h3>{t('viewer.series')}</h3>
            <ul className="plain">
              {series.data.map((s) => (
                <li key={s.uid}>
                  <button
                    type="button"
                    className={`series-button${s.uid === current ? ' selected' : ''}`}
                    aria-pressed={s.uid === current}
                    onClick={() => setSelected(s.uid)}
                  >
                    {t('viewer.seriesLabel', { number: s.number, modality: s.modality, description: s.description })}
                  </button>
                </li>
              ))}
            </ul>
          </div>
          {current && (
            <SeriesViewer
              key={current}
              studyUrl={studyUrl}
              series={current}
              modality={series.data.find((s) => s.uid === current)?.modality ?? ''}
              gateway={gateway}
              onStop={onStop}
            />
          )}
        </div>
      )}
    </section>
  );
}

interface SeriesViewerProps {
  studyUrl: string;
  series: string;
  modality: string;
  gateway: GatewayFetch;
  onStop: (error: unknown) => void;
}

function SeriesViewer({ studyUrl, series, modality, gateway, onStop }: SeriesViewerProps) {
  const { t } = useTranslation();
  const windowId = useId();
  const windowed = modality === 'CT';
  const [preset, setPreset] = useState<WindowPreset>('softTissue');
  const seriesUrl = `${studyUrl}/series/${encodeURIComponent(series)}`;
  const instances = useQuery({
    queryKey: ['pacs', series, 'instances'],
    queryFn: async ({ signal }) => {
      const response = await gateway(`${seriesUrl}/instances`, 'application/dicom+json', signal);
      const items = (await response.json()) as DicomJson;
      return items
        .map((item) => ({ uid: dicomValue(item, '00080018') ?? '', number: Number(dicomValue(item, '00200013') ?? 0) }))
        .filter((i) => i.uid)
        .sort((a, b) => a.number - b.number);
    },
    retry: false,
    gcTime: 0,
  });
  const [index, setIndex] = useState(0);
  const list = instances.data ?? [];
  const instance = list[Math.min(index, Math.max(0, list.length - 1))];
  const windowQuery = windowed && preset !== 'full' ? `?window=${CT_WINDOWS[preset].join(',')},linear` : '';
  const image = useRenderedImage(instance ? `${seriesUrl}/instances/${encodeURIComponent(instance.uid)}/rendered${windowQuery}` : null, gateway);

  useEffect(() => {
    if (isGrantStop(instances.error)) onStop(instances.error);
  }, [instances.error, onStop]);
  useEffect(() => {
    if (isGrantStop(image.error)) onStop(image.error);
  }, [image.error, onStop]);

  const step = (delta: number) => setIndex((i) => Math.min(Math.max(0, i + delta), Math.max(0, list.length - 1)));
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown' || event.key === 'PageDown') step(1);
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp' || event.key === 'PageUp') step(-1);
    else return;
    event.preventDefault();
  };

  if (instances.isPending) return <Loading />;
  if (instances.isError) return <ErrorMessage error={instances.error} onRetry={() => void instances.refetch()} />;
  return (
    <div className="image-pane">
      <div className="image-tools">
        <button type="button" className="button secondary" onClick={() => step(-1)} disabled={index <= 0}>
          {t('viewer.previous')}
        </button>
        <span role="status" aria-live="polite">
          {t('viewer.position', { n: Math.min(index + 1, list.length), total: list.length })}
        </span>
        <button type="button" className="button secondary" onClick={() => step(1)} disabled={index >= list.length - 1}>
          {t('viewer.next')}
        </button>
        {windowed && (
          <span className="inline">
            <label htmlFor={windowId}>{t('viewer.window.label')}</label>
            <select id={windowId} value={preset} onChange={(e) => setPreset(e.target.value as WindowPreset)}>
              {(['softTissue', 'lung', 'bone', 'brain'] as const).map((key) => (
                <option key={key} value={key}>
                  {t(`viewer.window.${key}`, { center: CT_WINDOWS[key][0], width: CT_WINDOWS[key][1] })}
                </option>
              ))}
              <option value="full">{t('viewer.window.full')}</option>
            </select>
          </span>
        )}
      </div>
      {/* Focusable so the arrow keys page through the series. */}
      <div className="image-frame" tabIndex={0} onKeyDown={onKeyDown} aria-label={t('viewer.imageRegion')} role="group">
        {image.url && <img src={image.url} alt={t('viewer.imageAlt', { n: Math.min(index + 1, list.length), total: list.length })} />}
        {image.loading && <Loading />}
        {image.error !== null && !isGrantStop(image.error) && <ErrorMessage error={image.error} />}
      </div>
    </div>
  );
}

/** The gateway's watermarked rendering, fetched with the bearer token and shown from a blob URL. */
function useRenderedImage(url: string | null, gateway: GatewayFetch) {
  const [state, setState] = useState<{ url: string | null; loading: boolean; error: unknown }>({ url: null, loading: false, error: null });
  useEffect(() => {
    if (!url) return;
    const controller = new AbortController();
    let objectUrl: string | null = null;
    setState((s) => ({ ...s, loading: true, error: null }));
    gateway(url, 'image/png', controller.signal)
      .then((response) => response.blob())
      .then((blob) => {
        objectUrl = URL.createObjectURL(blob);
        setState({ url: objectUrl, loading: false, error: null });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ url: null, loading: false, error });
      });
    return () => {
      controller.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url, gateway]);
  return state;
}
