import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import type { DeclareIncidentInput } from '../../../contracts/incident.js';
import { api, ApiError } from '../api/client';
import { localInputToIso } from '../ui/format';
import { incidentKeys, type IncidentView } from './queries';
import { Refusal } from './Refusal';

type Field = 'title' | 'description' | 'patients' | 'studies' | 'users' | 'windowFrom';
const SCOPE_FIELDS = ['patients', 'studies', 'users'] as const;

/** One entry a line, blank lines and surrounding spaces dropped, each once. */
export function lines(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter(Boolean),
    ),
  ];
}

/** The fields the API refused, by the path its problem names ("scope.patients.0" is the patients field). */
function refusedFields(error: unknown): Set<Field> {
  const out = new Set<Field>();
  if (!(error instanceof ApiError)) return out;
  for (const { path } of error.errors) {
    const [head, second] = path.split('.');
    if (head === 'scope' && (SCOPE_FIELDS as readonly string[]).includes(second ?? '')) out.add(second as Field);
    else if (head === 'title' || head === 'description' || head === 'windowFrom') out.add(head);
  }
  return out;
}

/** A security officer declares an incident: what is suspected, who and what it touches, since when. The clocks start at once. */
export function DeclareForm() {
  const { t } = useTranslation();
  const id = useId();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [title, setTitle] = useState('');
  const [description, setDescription] = useState('');
  const [scope, setScope] = useState<Record<(typeof SCOPE_FIELDS)[number], string>>({ patients: '', studies: '', users: '' });
  const [windowFrom, setWindowFrom] = useState('');

  // One declaration per form: a double click or a retry after a lost answer declares it once.
  const idempotencyKey = useRef(crypto.randomUUID());
  const declare = useMutation({
    mutationFn: (body: DeclareIncidentInput) => api<IncidentView>('/api/incidents', { body, headers: { 'Idempotency-Key': idempotencyKey.current } }),
    onSuccess: (view) => void navigate(`/incidents/${encodeURIComponent(view.id)}`),
    onSettled: () => void client.invalidateQueries({ queryKey: incidentKeys.all }),
  });
  const refused = refusedFields(declare.error);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const from = localInputToIso(windowFrom);
    declare.mutate({
      title: title.trim(),
      ...(description.trim() ? { description } : {}),
      scope: { patients: lines(scope.patients), studies: lines(scope.studies), users: lines(scope.users) },
      ...(from ? { windowFrom: from } : {}),
    });
  };

  const invalid = (field: Field) => ({
    'aria-invalid': refused.has(field),
    'aria-describedby': `${id}-${field}-hint${refused.has(field) ? ` ${id}-${field}-error` : ''}`,
  });
  const fieldError = (field: Field) =>
    refused.has(field) && (
      <p className="field-error" id={`${id}-${field}-error`}>
        {t(`incidents.declare.errors.${field}`)}
      </p>
    );

  return (
    <form className="card incident-declare" onSubmit={onSubmit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('incidents.declare.title')}</h2>
      <p className="hint">{t('incidents.declare.intro')}</p>
      <div className="field">
        <label htmlFor={`${id}-name`}>{t('incidents.declare.name')}</label>
        <input id={`${id}-name`} value={title} onChange={(e) => setTitle(e.target.value)} required minLength={3} maxLength={200} {...invalid('title')} />
        <p className="hint" id={`${id}-title-hint`}>
          {t('incidents.declare.nameHint')}
        </p>
        {fieldError('title')}
      </div>
      <div className="field">
        <label htmlFor={`${id}-description`}>{t('incidents.declare.description')}</label>
        <textarea id={`${id}-description`} value={description} onChange={(e) => setDescription(e.target.value)} rows={3} {...invalid('description')} />
        <p className="hint" id={`${id}-description-hint`}>
          {t('incidents.declare.descriptionHint')}
        </p>
        {fieldError('description')}
      </div>
      <fieldset className="field scope-fields">
        <legend>{t('incidents.declare.scope')}</legend>
        <p className="hint">{t('incidents.declare.scopeHint')}</p>
        {SCOPE_FIELDS.map((field) => (
          <div className="field" key={field}>
            <label htmlFor={`${id}-${field}`}>{t(`incidents.declare.${field}`)}</label>
            <textarea
              id={`${id}-${field}`}
              className="mono"
              value={scope[field]}
              onChange={(e) => setScope((old) => ({ ...old, [field]: e.target.value }))}
              rows={2}
              spellCheck={false}
              autoComplete="off"
              {...invalid(field)}
            />
            <p className="hint" id={`${id}-${field}-hint`}>
              {t(`incidents.declare.${field}Hint`)}
            </p>
            {fieldError(field)}
          </div>
        ))}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-window`}>{t('incidents.declare.windowFrom')}</label>
        <input id={`${id}-window`} type="datetime-local" value={windowFrom} onChange={(e) => setWindowFrom(e.target.value)} {...invalid('windowFrom')} />
        <p className="hint" id={`${id}-windowFrom-hint`}>
          {t('incidents.declare.windowFromHint')}
        </p>
        {fieldError('windowFrom')}
      </div>
      {declare.isError && <Refusal error={declare.error} action="declare" />}
      <div className="actions">
        <button type="submit" className="button danger" disabled={declare.isPending} aria-busy={declare.isPending}>
          {t('incidents.declare.submit')}
        </button>
        {declare.isPending && <span role="status">{t('incidents.declare.submitting')}</span>}
      </div>
    </form>
  );
}
