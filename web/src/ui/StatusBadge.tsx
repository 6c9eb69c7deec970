import { useTranslation } from 'react-i18next';
import type { AccessRequestStatus } from '../api/client';

/** The status as words (never colour alone); the colour only repeats it. */
export function StatusBadge({ status, live = false }: { status: AccessRequestStatus; live?: boolean }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${status.toLowerCase()}`} role={live ? 'status' : undefined} data-status={status}>
      {t(`status.${status}`)}
    </span>
  );
}
