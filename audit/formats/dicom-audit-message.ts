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

function code(element: string, csdCode: string, system: string, text: string): string {
  return `<${element} csd-code="${csdCode}" codeSystemName="${system}" originalText="${attr(text)}"/>`;
}

function dcm(element: string, value: DcmCode): string {
  return code(element, value.code, 'DCM', value.display);
}

export function dicomAuditMessage(facts: AuditFacts): string {
  const event = AUDIT_EVENT_CODES[facts.kind];
  const details = Object.entries(facts.details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `<ParticipantObjectDetail type="${attr(k)}" value="${Buffer.from(String(v)).toString('base64')}"/>`)
    .join('');
  const studies = facts.studies ?? (facts.study ? [facts.study] : []);
  const parts = [
    `<AuditMessage>`,
    `<EventIdentification EventActionCode="${event.action}" EventDateTime="${facts.at.toISOString()}" EventOutcomeIndicator="${AUDIT_OUTCOME_CODES[facts.outcome]}">`,
    dcm('EventID', event.id),
    event.type ? dcm('EventTypeCode', event.type) : '',
    `</EventIdentification>`,
    facts.user
      ? `<ActiveParticipant UserID="${attr(facts.user)}" UserIsRequestor="true"${facts.userAddress ? ` NetworkAccessPointID="${attr(facts.userAddress)}" NetworkAccessPointTypeCode="2"` : ''}>${dcm('RoleIDCode', SOURCE_ROLE)}</ActiveParticipant>`
      : '',
    ...(facts.otherUsers ?? []).map((u) => `<ActiveParticipant UserID="${attr(u)}" UserIsRequestor="false"/>`),
    `<ActiveParticipant UserID="${AUDIT_SOURCE_ID}" UserIsRequestor="false">${dcm('RoleIDCode', DESTINATION_ROLE)}</ActiveParticipant>`,
    `<AuditSourceIdentification AuditSourceID="${AUDIT_SOURCE_ID}">${code('AuditSourceTypeCode', '4', 'DCM', 'Application Server Process')}</AuditSourceIdentification>`,
    ...studies.map(
      (uid, i) =>
        `<ParticipantObjectIdentification ParticipantObjectID="${attr(uid)}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3">${code('ParticipantObjectIDTypeCode', '110180', 'DCM', 'Study Instance UID')}${i === 0 ? details : ''}</ParticipantObjectIdentification>`,
    ),
    facts.patientId
      ? `<ParticipantObjectIdentification ParticipantObjectID="${attr(facts.patientId)}" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">${code('ParticipantObjectIDTypeCode', '2', 'RFC-3881', 'Patient Number')}</ParticipantObjectIdentification>`
      : '',
    studies.length === 0 && details
      ? `<ParticipantObjectIdentification ParticipantObjectID="${AUDIT_SOURCE_ID}" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="13">${code('ParticipantObjectIDTypeCode', '12', 'RFC-3881', 'URI')}${details}</ParticipantObjectIdentification>`
      : '',
    `</AuditMessage>`,
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>${parts.join('')}`;
}
