import { z } from 'zod';

// A case in time order, as the API answers auditors and the web page reads it.

export const timelineEntrySchema = z.object({
  at: z.string(),
  source: z.enum(['workflow', 'record', 'gateway']),
  kind: z.string(),
  actor: z.string().nullable(),
  summary: z.string(),
  detail: z.record(z.string(), z.unknown()),
});

export const timelineSchema = z.object({
  caseId: z.string(),
  /** Where the workflow's events came from: Temporal itself, or the archive once Temporal deleted them. */
  historySource: z.enum(['live', 'archive', 'none']),
  entries: z.array(timelineEntrySchema),
});

export type TimelineEntry = z.infer<typeof timelineEntrySchema>;
export type CaseTimeline = z.infer<typeof timelineSchema>;
