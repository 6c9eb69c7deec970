import {
  AUDIT_EVENT_CODES,
  AUDIT_OUTCOME_CODES,
  DESTINATION_ROLE,
  SOURCE_ROLE,
  type AuditEventKind,
  type AuditOutcome,
  type DcmCode,
} from '../../contracts/audit-event-codes.js';
import { escapeXml as attr } from '../../contracts/xml.js';

// DICOM PS3.15 Annex A.5 audit messages (the RFC 3881 schema IHE ATNA uses), built as XML,
// with the event codes of contracts/audit-event-codes.ts.
// Participant objects: the study (ParticipantObjectIDTypeCode 110180 "Study Instance UID")
// and the patient (RFC-3881 code 2 "Patient Number"). The user is an active participant.
// Tokens appear only as their jti.

export const AUDIT_SOURCE_ID = 'imaging-access-review';

export interface AuditFacts {
  kind: AuditEventKind;
  at: Date;
  /** The person acting (the viewer, a reviewer, a security officer). */
  user: string | null;
  userAddress?: string | null;
  /** Others involved: the approvers of a grant. */
  otherUsers?: string[];
  study?: string | null;
  studies?: string[];
  patientId?: string | null;
  /** HL7 ActReason code of the grant behind the event. */
  purposeOfUse?: string | null;
  outcome: AuditOutcome;
  /** Extra facts carried as ParticipantObjectDetail on the study: grant id, jti, route, reason, record id. */
  details: Record<string, string | null | undefined>;
}

/** An XML element: attributes escaped, in the order given, absent ones left out; self-closing when empty. */
function element(name: string, attributes: Record<string, string | undefined>, ...children: string[]): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${attr(value)}"`)
    .join('');
  const body = children.join('');
  return body ? `<${name}${attrs}>${body}</${name}>` : `<${name}${attrs}/>`;
}

function code(name: string, csdCode: string, system: string, text: string): string {
  return element(name, { 'csd-code': csdCode, codeSystemName: system, originalText: text });
}

function dcm(name: string, value: DcmCode): string {
  return code(name, value.code, 'DCM', value.display);
}

function participantObject(id: string, typeCode: string, role: string, ...children: string[]): string {
  return element(
    'ParticipantObjectIdentification',
    { ParticipantObjectID: id, ParticipantObjectTypeCode: typeCode, ParticipantObjectTypeCodeRole: role },
    ...children,
  );
}

export function dicomAuditMessage(facts: AuditFacts): string {
  const event = AUDIT_EVENT_CODES[facts.kind];
  const details = Object.entries(facts.details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => element('ParticipantObjectDetail', { type: k, value: Buffer.from(String(v)).toString('base64') }))
    .join('');
  const studies = facts.studies ?? (facts.study ? [facts.study] : []);
  const eventIdentification = element(
    'EventIdentification',
    { EventActionCode: event.action, EventDateTime: facts.at.toISOString(), EventOutcomeIndicator: AUDIT_OUTCOME_CODES[facts.outcome] },
    dcm('EventID', event.id),
    event.type ? dcm('EventTypeCode', event.type) : '',
  );
  const requestor = facts.user
    ? element(
        'ActiveParticipant',
        {
          UserID: facts.user,
          UserIsRequestor: 'true',
          NetworkAccessPointID: facts.userAddress || undefined,
          NetworkAccessPointTypeCode: facts.userAddress ? '2' : undefined,
        },
        dcm('RoleIDCode', SOURCE_ROLE),
      )
    : '';
  const parts = [
    eventIdentification,
    requestor,
    ...(facts.otherUsers ?? []).map((u) => element('ActiveParticipant', { UserID: u, UserIsRequestor: 'false' })),
    element('ActiveParticipant', { UserID: AUDIT_SOURCE_ID, UserIsRequestor: 'false' }, dcm('RoleIDCode', DESTINATION_ROLE)),
    element('AuditSourceIdentification', { AuditSourceID: AUDIT_SOURCE_ID }, code('AuditSourceTypeCode', '4', 'DCM', 'Application Server Process')),
    ...studies.map((uid, i) =>
      participantObject(uid, '2', '3', code('ParticipantObjectIDTypeCode', '110180', 'DCM', 'Study Instance UID'), i === 0 ? details : ''),
    ),
    facts.patientId ? participantObject(facts.patientId, '1', '1', code('ParticipantObjectIDTypeCode', '2', 'RFC-3881', 'Patient Number')) : '',
    studies.length === 0 && details ? participantObject(AUDIT_SOURCE_ID, '2', '13', code('ParticipantObjectIDTypeCode', '12', 'RFC-3881', 'URI'), details) : '',
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>${element('AuditMessage', {}, ...parts)}`;
}
