import { useTranslation } from 'react-i18next';
import type { AccessRequestView } from '../api/client';
import { useDepartmentName } from './department';
import { useFormat } from './format';

/** What was asked, as every reader sees it: studies, patient, purpose, justification, duration, reviews. */
export function RequestDetails({ request, showRequester = false }: { request: AccessRequestView; showRequester?: boolean }) {
  const { t, i18n } = useTranslation();
  const format = useFormat();
  const department = useDepartmentName();
  const purposeKey = `purposes.${request.purposeOfUse}`;
  return (
    <dl className="details">
      {showRequester && (
        <>
          <dt>{t('details.requester')}</dt>
          <dd>{request.requester}</dd>
          <dt>{t('details.department')}</dt>
          <dd>{department(request.departmentId)}</dd>
        </>
      )}
      <dt>{t('details.patient')}</dt>
      <dd className="mono">{request.patientId}</dd>
      <dt>{t('details.studies')}</dt>
      <dd>
        <ul className="plain">
          {request.studyInstanceUids.map((uid) => {
            const confirmed = request.confirmedStudies.find((study) => study.studyInstanceUid === uid);
            return (
              <li key={uid}>
                <span className="mono uid">{uid}</span>
                {confirmed && (confirmed.description || confirmed.modalities.length > 0) && (
                  <span className="muted"> {[confirmed.modalities.join('/'), confirmed.description].filter(Boolean).join(' · ')}</span>
                )}
              </li>
            );
          })}
        </ul>
      </dd>
      <dt>{t('details.purpose')}</dt>
      <dd>{i18n.exists(purposeKey) ? t(purposeKey) : request.purposeOfUse}</dd>
      <dt>{t('details.justification')}</dt>
      <dd className="prewrap">{request.justification}</dd>
      <dt>{t('details.duration')}</dt>
      <dd>{t('details.minutes', { count: request.durationMinutes })}</dd>
      <dt>{t('details.submitted')}</dt>
      <dd>{format.dateTime(request.submittedAt)}</dd>
      {/* A break-glass was granted without review: its reviews came afterwards. */}
      <dt>{request.kind === 'break-glass' ? t('details.retroReviews') : t('details.reviews')}</dt>
      <dd>
        {request.reviews.length === 0 ? (
          t('details.noReviews')
        ) : (
          <ul className="plain">
            {request.reviews.map((review) => (
              <li key={`${review.reviewer}-${review.reviewedAt}`}>
                {t(`details.review.${review.decision}`, {
                  reviewer: review.reviewer,
                  role: t(`roles.${review.countedToward}`),
                  when: format.dateTime(review.reviewedAt),
                })}
                {review.comment && <q className="comment">{review.comment}</q>}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </dl>
  );
}
