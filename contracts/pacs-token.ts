import type { JWTPayload } from 'jose';
import { z } from 'zod';
import { PURPOSE_OF_USE_SYSTEM } from './access-request.js';
import { dicomUid } from './identifiers.js';

// The PACS token as the API signs it and the gateway reads it, stated once so that the
// signer and the verifier cannot drift apart: header, audience, claims and their mapping.

/**
 * ES256 (ECDSA P-256): the algorithm that DICOMweb viewers, PACS gateways and FIPS-validated
 * crypto modules all accept, with small keys and signatures; EdDSA verifies at a similar
 * speed here but is still missing from several JOSE stacks a hospital may put in front.
 */
export const PACS_TOKEN_ALGORITHM = 'ES256';
/** What a verifier accepts: anything else is refused before any key is used. */
export const PACS_TOKEN_ALGORITHMS: readonly string[] = Object.freeze([PACS_TOKEN_ALGORITHM]);
/** RFC 9068 access token: a JWT of another kind signed with the same key is never taken for one. */
export const PACS_TOKEN_TYPE = 'at+jwt';
/** The gateway's audience unless configured otherwise (GATEWAY_AUDIENCE). */
export const PACS_TOKEN_AUDIENCE = 'iar-pacs-gateway';
/** Namespace of this product's own claims inside `extensions` (IHE IUA style). */
export const EXTENSION_NAMESPACE = 'imaging_access_review';
/** Registered claims every token carries; jose checks their values. */
export const PACS_TOKEN_REQUIRED_CLAIMS: readonly string[] = Object.freeze(['exp', 'nbf', 'iat', 'jti', 'sub']);

/** What a token says. Times are epoch milliseconds, decided by the API (the workflow approved exactly these bounds). */
export interface PacsTokenClaims {
  issuer: string;
  audience: string;
  subject: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
  grantId: string;
  studyInstanceUids: string[];
  /** The patient the PACS confirmed every study belongs to; the gateway checks it again. */
  patientId: string;
  purposeOfUse: string;
  subjectRole: string;
  approvers: string[];
}

/** The claims a gateway relies on, as they stand in the payload; what it does not rely on it does not check. */
export const pacsTokenGrantSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  exp: z.number(),
  grant_id: z.string().min(1),
  study_instance_uids: z.array(dicomUid).min(1),
  patient_id: z.string().min(1).max(64),
  purpose_of_use: z.string(),
});

/** What a verified token grants. */
export type PacsTokenGrant = Pick<PacsTokenClaims, 'subject' | 'jti' | 'expiresAt' | 'grantId' | 'studyInstanceUids' | 'patientId' | 'purposeOfUse'>;

/** The JWT payload for `claims`, in whole seconds as JWT times are. */
export function pacsTokenPayload(claims: PacsTokenClaims): JWTPayload {
  const issuedAt = Math.floor(claims.issuedAt / 1000);
  return {
    grant_id: claims.grantId,
    study_instance_uids: claims.studyInstanceUids,
    patient_id: claims.patientId,
    purpose_of_use: claims.purposeOfUse,
    extensions: {
      ihe_iua: { subject_role: { code: claims.subjectRole }, purpose_of_use: { system: PURPOSE_OF_USE_SYSTEM, code: claims.purposeOfUse } },
      [EXTENSION_NAMESPACE]: { approvers: claims.approvers, grant_id: claims.grantId },
    },
    iss: claims.issuer,
    aud: claims.audience,
    sub: claims.subject,
    jti: claims.jti,
    iat: issuedAt,
    nbf: issuedAt,
    exp: Math.floor(claims.expiresAt / 1000),
  };
}

/** What a verified payload grants, or undefined when it lacks the grant claims. */
export function pacsTokenGrant(payload: unknown): PacsTokenGrant | undefined {
  const claims = pacsTokenGrantSchema.safeParse(payload);
  if (!claims.success) return undefined;
  return {
    subject: claims.data.sub,
    jti: claims.data.jti,
    expiresAt: claims.data.exp * 1000,
    grantId: claims.data.grant_id,
    studyInstanceUids: claims.data.study_instance_uids,
    patientId: claims.data.patient_id,
    purposeOfUse: claims.data.purpose_of_use,
  };
}
