import { z } from 'zod';
import { safeText } from './text.js';

// Identifiers that cross every boundary: DICOM UIDs and patient ids (the PACS, tokens, the
// gateway), usernames (directory, tokens), access request ids.

/** DICOM UI value representation: dot-separated numeric components, no leading zeros, ≤ 64 chars. */
export const dicomUid = z
  .string()
  .max(64, 'a DICOM UID is at most 64 characters')
  .regex(/^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/, 'not a valid DICOM UID (digits and dots, no leading zeros)');

/** Usernames as the directory and tokens spell them (the authenticator holds tokens to the same). */
export const usernameSchema = z.string().regex(/^[A-Za-z0-9._@-]{1,128}$/, 'a username is 1–128 characters of A–Z a–z 0–9 . _ @ -');

/** DICOM Patient ID (LO): at most 64 characters, no backslash or control characters. */
export const patientIdSchema = safeText({ max: 64, min: 1, minMessage: 'name the patient' }).regex(/^[^\\]+$/, 'not a valid DICOM Patient ID');

export const ACCESS_REQUEST_ID_PATTERN = /^ar-[0-9a-f-]{32,36}$/;
export const accessRequestIdSchema = z.string().regex(ACCESS_REQUEST_ID_PATTERN, 'not an access request id');

/**
 * DICOM Accession Number (SH): at most 16 characters. QIDO-RS reads `*` and `?` as wildcards
 * and Orthanc reads `,` as a list, so none of them is accepted: a lookup matches one number exactly.
 */
export const accessionNumberSchema = safeText({ max: 16, min: 1, minMessage: 'give the accession number' }).regex(
  /^[^\\*?,]+$/,
  'an accession number has no \\ * ? or , (a lookup matches one number exactly)',
);
