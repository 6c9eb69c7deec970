import { randomUUID } from 'node:crypto';
import { PURPOSE_OF_USE_SYSTEM } from '../../contracts/access-request.js';
import { AUDIT_EVENT_CODES, AUDIT_OUTCOME_CODES, DESTINATION_ROLE, SOURCE_ROLE, type AuditEventKind, type DcmCode } from '../../contracts/audit-event-codes.js';
import { AUDIT_SOURCE_ID, type AuditFacts } from './dicom-audit-message.js';

// FHIR R4 AuditEvent resources in the style of IHE Basic Audit Log Patterns (BALP), carrying
// the same DICOM event codes as the syslog messages (contracts/audit-event-codes.ts).

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';

/** The BALP profile an event claims, where one fits. */
const PROFILES: Partial<Record<AuditEventKind, string>> = { 'instances-accessed': `${BALP}/IHE.BasicAudit.PatientRead` };

const coding = (value: DcmCode) => ({ system: DCM, code: value.code, display: value.display });

export function fhirAuditEvent(facts: AuditFacts): Record<string, unknown> {
  const event = AUDIT_EVENT_CODES[facts.kind];
  const profile = PROFILES[facts.kind];
  const studies = facts.studies ?? (facts.study ? [facts.study] : []);
  const details = Object.entries(facts.details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([type, value]) => ({ type, valueString: String(value) }));
  return {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    ...(profile && facts.patientId ? { meta: { profile: [profile] } } : {}),
    type: coding(event.id),
    ...(event.type ? { subtype: [coding(event.type)] } : {}),
    action: event.action,
    recorded: facts.at.toISOString(),
    outcome: AUDIT_OUTCOME_CODES[facts.outcome],
    ...(facts.purposeOfUse ? { purposeOfEvent: [{ coding: [{ system: PURPOSE_OF_USE_SYSTEM, code: facts.purposeOfUse }] }] } : {}),
    agent: [
      ...(facts.user
        ? [
            {
              type: { coding: [coding(SOURCE_ROLE)] },
              who: { identifier: { value: facts.user } },
              requestor: true,
              ...(facts.userAddress ? { network: { address: facts.userAddress, type: '2' } } : {}),
            },
          ]
        : []),
      ...(facts.otherUsers ?? []).map((u) => ({ who: { identifier: { value: u } }, requestor: false })),
      { type: { coding: [coding(DESTINATION_ROLE)] }, who: { display: AUDIT_SOURCE_ID }, requestor: false },
    ],
    source: {
      observer: { display: AUDIT_SOURCE_ID },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      ...studies.map((uid, i) => ({
        what: { identifier: { system: 'urn:dicom:uid', value: `urn:oid:${uid}` } },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '3', display: 'Report' },
        ...(i === 0 && details.length ? { detail: details } : {}),
      })),
      ...(facts.patientId
        ? [
            {
              what: { identifier: { value: facts.patientId } },
              type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
              role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
            },
          ]
        : []),
      ...(studies.length === 0 && details.length ? [{ what: { display: AUDIT_SOURCE_ID }, detail: details }] : []),
    ],
  };
}
