import { useTranslation } from 'react-i18next';
import type { IncidentView } from './queries';

/** Open or closed, in words; the colour only repeats it. */
export function IncidentStatusBadge({ status }: { status: IncidentView['status'] }) {
  const { t } = useTranslation();
  return (
    <span className={`badge incident-${status.toLowerCase()}`} data-status={status}>
      {t(`incidents.status.${status}`)}
    </span>
  );
}
