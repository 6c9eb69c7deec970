import { z } from 'zod';

// What replaying a case's recorded history with today's workflow code found.

export const replayReportSchema = z.object({
  caseId: z.string(),
  events: z.number().int(),
  /** reproduced: today's workflow code makes exactly the recorded decisions. */
  result: z.enum(['reproduced', 'determinism-failure', 'replay-error']),
  recordedOutcome: z.string().nullable(),
  /** Where the history came from: the live Temporal server or the archive. */
  source: z.enum(['live', 'archive']).optional(),
  detail: z.string().optional(),
});
export type ReplayReport = z.infer<typeof replayReportSchema>;
