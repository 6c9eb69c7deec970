// DICOM PS3.15 Annex A.5 audit messages (the RFC 3881 schema IHE ATNA uses), built as XML.
//
// Event codes chosen for this product:
//   image served through the gateway   → 110103 "DICOM Instances Accessed", action R, outcome 0
//   request refused by the gateway     → 110113 "Security Alert", type 110132 "Use of Restricted Function", outcome 4
//   access granted (second approval)   → 110113 "Security Alert", type 110137 "User Security Attributes Changed", outcome 0
//   access revoked                     → 110113 "Security Alert", type 110137 "User Security Attributes Changed", outcome 0
// Participant objects: the study (ParticipantObjectIDTypeCode 110180 "Study Instance UID")
// and the patient (RFC-3881 code 2 "Patient Number"). The user is an active participant.
// Tokens appear only as their jti.

export const AUDIT_SOURCE_ID = 'imaging-access-review';

export interface AuditFacts {
  kind: 'instances-accessed' | 'security-alert' | 'access-granted' | 'access-revoked';
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
  outcome: 'success' | 'minor-failure';
  /** Extra facts carried as ParticipantObjectDetail on the study: grant id, jti, route, reason, record id. */
  details: Record<string, string | null | undefined>;
}

function attr(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function code(element: string, csdCode: string, system: string, text: string): string {
  return `<${element} csd-code="${csdCode}" codeSystemName="${system}" originalText="${attr(text)}"/>`;
}

const EVENTS = {
  'instances-accessed': { id: ['110103', 'DICOM Instances Accessed'], action: 'R', type: null },
  'security-alert': { id: ['110113', 'Security Alert'], action: 'E', type: ['110132', 'Use of Restricted Function'] },
  'access-granted': { id: ['110113', 'Security Alert'], action: 'E', type: ['110137', 'User Security Attributes Changed'] },
  'access-revoked': { id: ['110113', 'Security Alert'], action: 'E', type: ['110137', 'User Security Attributes Changed'] },
} as const;

export function dicomAuditMessage(facts: AuditFacts): string {
  const event = EVENTS[facts.kind];
  const details = Object.entries(facts.details)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `<ParticipantObjectDetail type="${attr(k)}" value="${Buffer.from(String(v)).toString('base64')}"/>`)
    .join('');
  const studies = facts.studies ?? (facts.study ? [facts.study] : []);
  const parts = [
    `<AuditMessage>`,
    `<EventIdentification EventActionCode="${event.action}" EventDateTime="${facts.at.toISOString()}" EventOutcomeIndicator="${facts.outcome === 'success' ? 0 : 4}">`,
    code('EventID', event.id[0], 'DCM', event.id[1]),
    event.type ? code('EventTypeCode', event.type[0], 'DCM', event.type[1]) : '',
    `</EventIdentification>`,
    facts.user
      ? `<ActiveParticipant UserID="${attr(facts.user)}" UserIsRequestor="true"${facts.userAddress ? ` NetworkAccessPointID="${attr(facts.userAddress)}" NetworkAccessPointTypeCode="2"` : ''}>${code('RoleIDCode', '110153', 'DCM', 'Source Role ID')}</ActiveParticipant>`
      : '',
    ...(facts.otherUsers ?? []).map((u) => `<ActiveParticipant UserID="${attr(u)}" UserIsRequestor="false"/>`),
    `<ActiveParticipant UserID="${AUDIT_SOURCE_ID}" UserIsRequestor="false">${code('RoleIDCode', '110152', 'DCM', 'Destination Role ID')}</ActiveParticipant>`,
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
