import { z } from 'zod';
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
