// The DICOM codes (PS3.16, scheme DCM) this product audits with. The syslog messages (DICOM
// PS3.15 A.5) and the FHIR AuditEvents carry the same ones, so that the two never disagree:
//   image served through the gateway   → 110103 "DICOM Instances Accessed", action R, outcome 0
//   request refused by the gateway     → 110113 "Security Alert", type 110132 "Use of Restricted Function", outcome 4
//   access granted (second approval)   → 110113 "Security Alert", type 110137 "User Security Attributes Changed", outcome 0
//   access revoked                     → 110113 "Security Alert", type 110137 "User Security Attributes Changed", outcome 0

export interface DcmCode {
  code: string;
  display: string;
}

export type AuditEventKind = 'instances-accessed' | 'security-alert' | 'access-granted' | 'access-revoked';

export interface AuditEventCodes {
  id: DcmCode;
  type?: DcmCode;
  /** EventActionCode: R read, E execute. */
  action: 'R' | 'E';
}

const SECURITY_ALERT: DcmCode = { code: '110113', display: 'Security Alert' };
const USER_SECURITY_ATTRIBUTES_CHANGED: DcmCode = { code: '110137', display: 'User Security Attributes Changed' };

export const AUDIT_EVENT_CODES: Readonly<Record<AuditEventKind, AuditEventCodes>> = {
  'instances-accessed': { id: { code: '110103', display: 'DICOM Instances Accessed' }, action: 'R' },
  'security-alert': { id: SECURITY_ALERT, type: { code: '110132', display: 'Use of Restricted Function' }, action: 'E' },
  'access-granted': { id: SECURITY_ALERT, type: USER_SECURITY_ATTRIBUTES_CHANGED, action: 'E' },
  'access-revoked': { id: SECURITY_ALERT, type: USER_SECURITY_ATTRIBUTES_CHANGED, action: 'E' },
};

/** EventOutcomeIndicator. */
export const AUDIT_OUTCOME_CODES = { success: '0', 'minor-failure': '4' } as const;
export type AuditOutcome = keyof typeof AUDIT_OUTCOME_CODES;

/** Roles of the active participants: the person asking, and this product answering. */
export const SOURCE_ROLE: DcmCode = { code: '110153', display: 'Source Role ID' };
export const DESTINATION_ROLE: DcmCode = { code: '110152', display: 'Destination Role ID' };
