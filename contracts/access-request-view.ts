import { z } from 'zod';
import { RETRO_STATUSES } from '../domain/break-glass.js';
import { accessRequestStatusSchema, reviewDecisionSchema } from './access-request.js';

// The access request as every reader sees it: the API's answers, evidence bundles, the web pages.

export const reviewViewSchema = z.object({
  reviewer: z.string(),
  decision: reviewDecisionSchema,
  comment: z.string().nullable(),
  countedToward: z.string(),
  reviewedAt: z.string(),
});

export const accessRequestViewSchema = z.object({
  id: z.string(),
  status: accessRequestStatusSchema,
  requester: z.string(),
  departmentId: z.string(),
  studyInstanceUids: z.array(z.string()),
  patientId: z.string(),
  purposeOfUse: z.string(),
  justification: z.string(),
  durationMinutes: z.number(),
  requestHash: z.string(),
  submittedAt: z.string(),
  reviewDeadline: z.string(),
  endedAt: z.string().nullable(),
  endReason: z.string().nullable(),
  reviews: z.array(reviewViewSchema),
  grant: z.object({ approvers: z.array(z.string()), activatedAt: z.string(), expiresAt: z.string(), endedAt: z.string().nullable() }).nullable(),
  /** review: granted after two approvals; break-glass: granted at once and reviewed afterwards. */
  kind: z.enum(['review', 'break-glass']),
  /** A break-glass's review afterwards: PENDING until two approve or one denies, UNREVIEWED when its window closed first. */
  retroReview: z.object({ status: z.enum(RETRO_STATUSES), deadline: z.string() }).nullable(),
  /** What the PACS confirmed about each study at submission, in the order requested. */
  confirmedStudies: z.array(
    z.object({
      studyInstanceUid: z.string(),
      patientId: z.string(),
      modalities: z.array(z.string()),
      studyDate: z.string().nullable(),
      description: z.string().nullable(),
      confirmedAt: z.string(),
    }),
  ),
});

/** The answer to a review: the request as recorded, and the caller's own review in it. */
export const reviewAnswerSchema = accessRequestViewSchema.extend({ review: reviewViewSchema });
export type AccessRequestView = z.infer<typeof accessRequestViewSchema>;
