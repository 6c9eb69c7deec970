// The access request's vocabulary, shared by the API, the workflow and the records. Pure:
// no I/O, no clock, no Node APIs, because the workflow sandbox bundles it.

/** HL7 v3 ActReason codes (PurposeOfUse) offered to clinicians. */
export const PURPOSES_OF_USE = {
  TREAT: 'treatment',
  COC: 'consultation (coordination of care)',
  HRESCH: 'healthcare research',
  TRAIN: 'teaching (training)',
  HQUALIMP: 'quality review (health quality improvement)',
} as const;
export type PurposeOfUse = keyof typeof PURPOSES_OF_USE;

export const REVIEWER_ROLES = ['supervisor', 'privacy_officer'] as const;
export type ReviewerRole = (typeof REVIEWER_ROLES)[number];

export const ROLES = ['clinician', ...REVIEWER_ROLES, 'auditor', 'security_officer'] as const;
export type Role = (typeof ROLES)[number];

/** The capacity in which someone revoked a grant, recorded with the revocation. */
export const REVOKER_ROLES = ['requester', 'reviewer', 'security_officer'] as const;
export type RevokerRole = (typeof REVOKER_ROLES)[number];

/**
 * FAILED: the database refused to record a step (data no retry can store); the request
 * ended there and grants nothing.
 */
export const ACCESS_REQUEST_STATUSES = ['PENDING_REVIEW', 'ACTIVE', 'EXPIRED', 'REVOKED', 'DENIED', 'TIMED_OUT', 'CANCELLED', 'FAILED'] as const;
export type AccessRequestStatus = (typeof ACCESS_REQUEST_STATUSES)[number];

/**
 * The authenticated caller, resolved by the API. Temporal's client `identity` is not
 * authenticated, so this travels in every Update's arguments instead.
 */
export interface Principal {
  username: string;
  roles: Role[];
  /** The clinician's own department, if any. */
  departmentId?: string;
  /** Departments a supervisor reviews for. */
  reviewsForDepartments: string[];
}

/** The request exactly as submitted; immutable once the workflow starts. */
export interface SubmittedRequest {
  id: string;
  requester: string;
  requesterRole: 'clinician';
  departmentId: string;
  studyInstanceUids: string[];
  patientId: string;
  purposeOfUse: PurposeOfUse;
  justification: string;
  durationMinutes: number;
  /** SHA-256 (hex) of the canonical JSON of the fields above. */
  requestHash: string;
  idempotencyKey?: string;
  /**
   * What the PACS said about each study when the API checked it before submitting (not
   * part of the hash: what was asked, not what was found). `confirmedAt` is epoch ms.
   */
  confirmedStudies?: {
    studyInstanceUid: string;
    patientId: string;
    modalities: string[];
    studyDate: string | null;
    description: string | null;
    confirmedAt: number;
  }[];
}

export interface ReviewPolicy {
  /** Distinct approvals needed. */
  approvalsRequired: number;
  /** When true, the approvals must come from different reviewer roles. */
  requireDistinctRoles: boolean;
}

export const DEFAULT_REVIEW_POLICY: ReviewPolicy = { approvalsRequired: 2, requireDistinctRoles: true };

export const REVIEW_DECISIONS = ['approve', 'deny'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export interface ReviewInput {
  reviewer: Principal;
  decision: ReviewDecision;
  comment?: string;
  /** The hash of the request the reviewer saw. */
  requestHash: string;
  /** The reviewer's Idempotency-Key, kept with the review so a retry finds it. */
  idempotencyKey?: string;
}

export interface RecordedReview {
  reviewer: string;
  decision: ReviewDecision;
  countedToward: ReviewerRole;
  comment?: string;
}
