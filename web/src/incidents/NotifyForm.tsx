import { useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';
import { incidentPath, useIncidentChange, type IncidentView, type IndividualChannel, type NotifyInput } from './queries';
import { Refusal } from './Refusal';

const AUDIENCES = ['regulator', 'individuals'] as const;
const CHANNELS: readonly IndividualChannel[] = ['letter', 'sms', 'app'];

/** Security and privacy officers notify the regulator (e-mail), or the affected patients by letter, SMS or the app. */
export function NotifyForm({ incident }: { incident: IncidentView }) {
  const { t } = useTranslation();
  const id = useId();
  const [audience, setAudience] = useState<NotifyInput['audience']>('regulator');
  const [channel, setChannel] = useState<IndividualChannel>('letter');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  // One notification per written message: a double click or a retry sends it once; the next message gets a new key.
  const idempotencyKey = useRef(crypto.randomUUID());
  const notify = useIncidentChange(
    incident.id,
    (input: NotifyInput) =>
      api<IncidentView>(incidentPath(incident.id, '/notifications'), { body: input, headers: { 'Idempotency-Key': idempotencyKey.current } }),
    () => {
      idempotencyKey.current = crypto.randomUUID();
      setSubject('');
      setBody('');
    },
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    notify.mutate(audience === 'regulator' ? { audience, subject: subject.trim(), body } : { audience, channel, subject: subject.trim(), body });
  };
  return (
    <form className="card incident-action" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{t('incidents.notify.title')}</h3>
      <fieldset className="field">
        <legend>{t('incidents.notify.audience')}</legend>
        {AUDIENCES.map((option) => (
          <label className="inline" key={option}>
            <input
              type="radio"
              name={`${id}-audience`}
              value={option}
              checked={audience === option}
              onChange={() => {
                setAudience(option);
                notify.reset();
              }}
            />{' '}
            {t(`incidents.notify.to.${option}`)}
          </label>
        ))}
        <p className="hint">{t(`incidents.notify.hint.${audience}`)}</p>
      </fieldset>
      {audience === 'individuals' && (
        <div className="field">
          <label htmlFor={`${id}-channel`}>{t('incidents.notify.channel')}</label>
          <select id={`${id}-channel`} value={channel} onChange={(e) => setChannel(e.target.value as IndividualChannel)}>
            {CHANNELS.map((option) => (
              <option key={option} value={option}>
                {t(`incidents.channel.${option}`)}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-subject`}>{t('incidents.notify.subject')}</label>
        <input id={`${id}-subject`} value={subject} onChange={(e) => setSubject(e.target.value)} required minLength={3} maxLength={200} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-body`}>{t('incidents.notify.body')}</label>
        <textarea id={`${id}-body`} value={body} onChange={(e) => setBody(e.target.value)} rows={4} required minLength={3} />
      </div>
      {notify.isError && <Refusal error={notify.error} action="notify" />}
      {notify.isSuccess && (
        <p className="success" role="status">
          {t(`incidents.notify.done.${notify.variables.audience}`)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button" disabled={notify.isPending} aria-busy={notify.isPending}>
          {t('incidents.notify.submit')}
        </button>
        {notify.isPending && <span role="status">{t('incidents.sending')}</span>}
      </div>
    </form>
  );
}
