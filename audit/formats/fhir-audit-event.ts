import { randomUUID } from 'node:crypto';
import { AUDIT_SOURCE_ID, type AuditFacts } from './dicom-audit-message.js';

// FHIR R4 AuditEvent resources in the style of IHE Basic Audit Log Patterns (BALP), carrying
// the same DICOM event codes as the syslog messages so that the two never disagree.

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';

const EVENT: Record<AuditFacts['kind'], { type: [string, string]; subtype?: [string, string]; action: string; profile?: string }> = {
  'instances-accessed': { type: ['110103', 'DICOM Instances Accessed'], action: 'R', profile: `${BALP}/IHE.BasicAudit.PatientRead` },
  'security-alert': { type: ['110113', 'Security Alert'], subtype: ['110132', 'Use of Restricted Function'], action: 'E' },
  'access-granted': { type: ['110113', 'Security Alert'], subtype: ['110137', 'User Security Attributes Changed'], action: 'E' },
  'access-revoked': { type: ['110113', 'Security Alert'], subtype: ['110137', 'User Security Attributes Changed'], action: 'E' },
};

export function fhirAuditEvent(facts: AuditFacts): Record<string, unknown> {
  const event = EVENT[facts.kind];
  const studies = facts.studies ?? (facts.study ? [facts.study] : []);
  const details = Object.entries(facts.details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([type, value]) => ({ type, valueString: String(value) }));
  return {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    ...(event.profile && facts.patientId ? { meta: { profile: [event.profile] } } : {}),
    type: { system: DCM, code: event.type[0], display: event.type[1] },
    ...(event.subtype ? { subtype: [{ system: DCM, code: event.subtype[0], display: event.subtype[1] }] } : {}),
    action: event.action,
    recorded: facts.at.toISOString(),
    outcome: facts.outcome === 'success' ? '0' : '4',
    ...(facts.purposeOfUse
      ? { purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: facts.purposeOfUse }] }] }
      : {}),
    agent: [
      ...(facts.user
        ? [
            {
              type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
              who: { identifier: { value: facts.user } },
              requestor: true,
              ...(facts.userAddress ? { network: { address: facts.userAddress, type: '2' } } : {}),
            },
          ]
        : []),
      ...(facts.otherUsers ?? []).map((u) => ({ who: { identifier: { value: u } }, requestor: false })),
      { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: AUDIT_SOURCE_ID }, requestor: false },
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
