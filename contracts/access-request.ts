import { z } from 'zod';
import { ACCESS_REQUEST_STATUSES, PURPOSES_OF_USE, REVIEW_DECISIONS, REVIEWER_ROLES, type PurposeOfUse } from '../domain/access-request.js';

// The domain's vocabulary as schemas, derived from its lists so that a new status or
// purpose reaches every boundary (API, OpenAPI, web pages) from one place.

/** The code system of purposes of use (HL7 v3 ActReason), as tokens and FHIR audit events name it. */
export const PURPOSE_OF_USE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

export const accessRequestStatusSchema = z.enum(ACCESS_REQUEST_STATUSES);
export const purposeOfUseSchema = z.enum(Object.keys(PURPOSES_OF_USE) as [PurposeOfUse, ...PurposeOfUse[]]).describe('HL7 v3 ActReason (PurposeOfUse) code');
export const reviewDecisionSchema = z.enum(REVIEW_DECISIONS);
export const reviewerRoleSchema = z.enum(REVIEWER_ROLES);
