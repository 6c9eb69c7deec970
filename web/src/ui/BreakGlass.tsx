import { useTranslation } from 'react-i18next';
import type { AccessRequestView } from '../api/client';
import { useFormat } from './format';

/** "Break-glass" in words, beside the status, on every break-glass request; nothing on an ordinary one. */
export function BreakGlassMark({ request }: { request: AccessRequestView }) {
  const { t } = useTranslation();
  if (request.kind !== 'break-glass') return null;
  return <span className="badge break-glass-mark">{t('breakGlass.mark')}</span>;
}

/** Where a break-glass's review afterwards stands: pending (and by when), justified, not justified, or not reviewed in time. */
export function RetroReviewLine({ request }: { request: AccessRequestView }) {
  const { t } = useTranslation();
  const format = useFormat();
  const retro = request.retroReview;
  if (request.kind !== 'break-glass' || !retro) return null;
  return (
    <p className={`retro-line retro-${retro.status.toLowerCase()}`} data-retro-status={retro.status}>
      {t('breakGlass.retroLabel')} <strong>{t(`breakGlass.retroStatus.${retro.status}`)}</strong>
      {retro.status === 'PENDING' && <> {t('breakGlass.retroDue', { when: format.dateTime(retro.deadline) })}</>}
    </p>
  );
}
