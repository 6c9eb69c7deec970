import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, query, type StudyLookup as StudyLookupAnswer } from '../api/client';
import { ErrorMessage } from '../ui/status';

/**
 * Finds a study's UID from the accession number on the order the clinician holds. The API
 * asks the PACS and answers only with studies filed under the patient given, so the patient
 * ID comes first; the submission confirms the study with the PACS again.
 */
export function StudyLookup({ patientId, chosen, onAdd }: { patientId: string; chosen: readonly string[]; onAdd: (uid: string) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [accession, setAccession] = useState('');
  const [needPatient, setNeedPatient] = useState(false);
  const lookUp = useMutation({
    mutationFn: (params: { accessionNumber: string; patientId: string }) => api<StudyLookupAnswer>(`/api/studies${query(params)}`),
  });
  const { reset } = lookUp;
  // What was found belongs to the patient it was asked for: another patient id clears it.
  useEffect(() => reset(), [patientId, reset]);
  const run = () => {
    const patient = patientId.trim();
    setNeedPatient(!patient);
    if (!patient || !accession.trim()) return;
    lookUp.mutate({ accessionNumber: accession.trim(), patientId: patient });
  };
  // Enter here looks the study up; it must not submit the whole request.
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    run();
  };
  const found = lookUp.data?.items;

  return (
    <div className="lookup-block">
      <div className="lookup">
        <div className="field">
          <label htmlFor={`${id}-accession`}>{t('requests.lookup.accession')}</label>
          <input
            id={`${id}-accession`}
            value={accession}
            onChange={(e) => setAccession(e.target.value)}
            onKeyDown={onKeyDown}
            maxLength={16}
            autoComplete="off"
            spellCheck={false}
            aria-describedby={`${id}-hint`}
          />
        </div>
        <button type="button" className="button secondary" onClick={run} disabled={lookUp.isPending}>
          {t('requests.lookup.button')}
        </button>
      </div>
      <p className="hint" id={`${id}-hint`}>
        {t('requests.lookup.hint')}
      </p>
      {lookUp.isError && <ErrorMessage error={lookUp.error} />}
      <div aria-live="polite">
        {/* Inside this live region, no role="alert" of its own: it would be announced twice. */}
        {needPatient && <p className="field-error">{t('requests.lookup.needPatient')}</p>}
        {found && found.length === 0 && <p className="empty">{t('requests.lookup.none')}</p>}
        {found && found.length > 0 && (
          <ul className="found-studies" aria-label={t('requests.lookup.results')}>
            {found.map((study) => {
              const added = chosen.includes(study.studyInstanceUid);
              return (
                <li key={study.studyInstanceUid}>
                  <span>
                    {[study.description, study.modalities.join('/'), study.studyDate].filter(Boolean).join(' · ')}{' '}
                    <span className="mono">{study.studyInstanceUid}</span>
                  </span>
                  <button type="button" className="button secondary" onClick={() => onAdd(study.studyInstanceUid)} disabled={added}>
                    {added ? t('requests.lookup.added') : t('requests.lookup.add')}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </div>
  );
}
