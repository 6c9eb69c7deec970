import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../ui/format';
import { Empty } from '../ui/status';
import type { NotificationView } from './queries';
import { useRecipient } from './words';

/** Every notification of the incident: to whom, how, through what, where it stands; the body opens under its subject. */
export function Notifications({ notifications }: { notifications: NotificationView[] }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const recipient = useRecipient();
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.notifications.title')}</h2>
      {notifications.length === 0 ? (
        <Empty>{t('incidents.notifications.empty')}</Empty>
      ) : (
        <div className="table-wrap">
          <table className="notifications">
            <thead>
              <tr>
                <th scope="col">{t('incidents.notifications.audience')}</th>
                <th scope="col">{t('incidents.notifications.recipient')}</th>
                <th scope="col">{t('incidents.notifications.channel')}</th>
                <th scope="col">{t('incidents.notifications.transport')}</th>
                <th scope="col">{t('incidents.notifications.status')}</th>
                <th scope="col">{t('incidents.notifications.time')}</th>
                <th scope="col">{t('incidents.notifications.subject')}</th>
              </tr>
            </thead>
            <tbody>
              {notifications.map((n) => (
                <tr key={n.id} data-audience={n.audience}>
                  <td>{t(`incidents.notifications.audiences.${n.audience}`)}</td>
                  <td className="recipient">{recipient(n)}</td>
                  <td>{t(`incidents.channel.${n.channel}`)}</td>
                  <td>{t(`incidents.notifications.transports.${n.transport}`)}</td>
                  <td>
                    <span className={`badge notification-${n.status.toLowerCase()}`} data-status={n.status}>
                      {t(`incidents.notifications.statuses.${n.status}`)}
                    </span>
                  </td>
                  <td>
                    <time dateTime={n.sentAt ?? n.createdAt}>{format.dateTime(n.sentAt ?? n.createdAt)}</time>
                  </td>
                  <td>
                    <details className="notification-body">
                      <summary>{n.subject}</summary>
                      <p className="prewrap">{n.body}</p>
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
