import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../ui/format';
import { useNow } from '../ui/useNow';
import type { ClockStatus, ClockView } from './queries';

/** A clock's state in words (never colour alone); the border only repeats it. */
export function ClockStatusBadge({ status }: { status: ClockStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge clock-${status.toLowerCase().replace('_', '-')}`} data-status={status}>
      {t(`incidents.clocks.status.${status}`)}
    </span>
  );
}

/** The five clocks in one table: what is due when, where each stands, reminders and escalation, when it was met. */
export function ClocksTable({ clocks }: { clocks: ClockView[] }) {
  const { t } = useTranslation();
  const id = useId();
  const format = useFormat();
  const now = useNow(30_000);
  return (
    <section className="card" aria-labelledby={`${id}-clocks`}>
      <h2 id={`${id}-clocks`}>{t('incidents.clocks.title')}</h2>
      <p className="hint">{t('incidents.clocks.intro')}</p>
      <div className="table-wrap">
        <table className="clocks">
          <thead>
            <tr>
              <th scope="col">{t('incidents.clocks.clock')}</th>
              <th scope="col">{t('incidents.clocks.due')}</th>
              <th scope="col">{t('incidents.clocks.state')}</th>
              <th scope="col">{t('incidents.clocks.reminders')}</th>
              <th scope="col">{t('incidents.clocks.escalatedAt')}</th>
              <th scope="col">{t('incidents.clocks.doneAt')}</th>
            </tr>
          </thead>
          <tbody>
            {clocks.map((clock) => (
              <tr key={clock.clock} data-clock={clock.clock}>
                <th scope="row">
                  {t(`incidents.clocks.name.${clock.clock}`)}
                  <span className="hint clock-what">{t(`incidents.clocks.what.${clock.clock}`)}</span>
                </th>
                <td>
                  <time dateTime={clock.dueAt}>{format.dateTime(clock.dueAt)}</time>
                  {clock.status === 'RUNNING' && <span className="hint clock-left">{format.relative(clock.dueAt, now)}</span>}
                </td>
                <td>
                  <ClockStatusBadge status={clock.status} />
                </td>
                <td>{format.number(clock.remindersSent)}</td>
                <td>{clock.escalatedAt ? <time dateTime={clock.escalatedAt}>{format.dateTime(clock.escalatedAt)}</time> : t('incidents.none')}</td>
                <td>{clock.doneAt ? <time dateTime={clock.doneAt}>{format.dateTime(clock.doneAt)}</time> : t('incidents.none')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** One line per clock for the list: its name and state, and for a running clock when it is due. */
export function ClocksSummary({ clocks }: { clocks: ClockView[] }) {
  const { t } = useTranslation();
  const format = useFormat();
  const now = useNow(30_000);
  return (
    <ul className="clock-summary">
      {clocks.map((clock) => (
        <li key={clock.clock}>
          <span className="clock-name">{t(`incidents.clocks.short.${clock.clock}`)}</span> <ClockStatusBadge status={clock.status} />
          {clock.status === 'RUNNING' && (
            <span className="hint">
              {' '}
              <time dateTime={clock.dueAt} title={format.dateTime(clock.dueAt)}>
                {t('incidents.clocks.dueIn', { when: format.relative(clock.dueAt, now) })}
              </time>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
