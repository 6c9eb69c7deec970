import { SignJWT } from 'jose';
import { SIGNING_ALG, type ActiveKey } from './signing-keys.js';

/** Namespace of this product's own claims inside `extensions` (IHE IUA style). */
export const EXTENSION_NAMESPACE = 'imaging_access_review';
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

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

/**
 * The credential the PACS gateway checks on every image request. Times are epoch ms and are
 * decided by the caller (the workflow has already approved exactly these bounds).
 */
export async function signPacsToken(claims: PacsTokenClaims, key: ActiveKey): Promise<string> {
  const purpose = { system: PURPOSE_OF_USE_SYSTEM, code: claims.purposeOfUse };
  return new SignJWT({
    grant_id: claims.grantId,
    study_instance_uids: claims.studyInstanceUids,
    patient_id: claims.patientId,
    purpose_of_use: claims.purposeOfUse,
    extensions: {
      ihe_iua: { subject_role: { code: claims.subjectRole }, purpose_of_use: purpose },
      [EXTENSION_NAMESPACE]: { approvers: claims.approvers, grant_id: claims.grantId },
    },
  })
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.subject)
    .setJti(claims.jti)
    .setIssuedAt(Math.floor(claims.issuedAt / 1000))
    .setNotBefore(Math.floor(claims.issuedAt / 1000))
    .setExpirationTime(Math.floor(claims.expiresAt / 1000))
    .sign(key.key);
}
