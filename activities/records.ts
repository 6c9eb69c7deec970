import type { Db } from '../db/client.js';
import {
  recordBreakGlassOpened,
  recordRetroReview,
  recordRetroUnreviewed,
  type RecordBreakGlassInput,
  type RecordRetroReviewInput,
} from './records/break-glass.js';
import { recordEnd, type RecordEndInput } from './records/end.js';
import { recordFailure, type RecordFailureInput } from './records/failure.js';
import { recordRefusedMessage, type RecordRefusedMessageInput } from './records/refused-message.js';
import { recordReview, type RecordReviewInput } from './records/review.js';
import { recordRevocation, type RecordRevocationInput } from './records/revocation.js';
import { recordSubmission, type RecordSubmissionInput } from './records/submission.js';
import { recordTokenIssued, type RecordTokenIssuedInput } from './records/token.js';

export type {
  RecordBreakGlassInput,
  RecordRetroReviewInput,
  RecordEndInput,
  RecordFailureInput,
  RecordRefusedMessageInput,
  RecordReviewInput,
  RecordRevocationInput,
  RecordSubmissionInput,
  RecordTokenIssuedInput,
};

/**
 * The record activities, one per transition of a request, each in its own module under
 * records/. The keys are the activity names in every recorded history: renaming one breaks
 * replay and strands running workflows.
 */
export function createRecordActivities(db: Db) {
  return {
    recordSubmission: (input: RecordSubmissionInput) => recordSubmission(db, input),
    recordReview: (input: RecordReviewInput) => recordReview(db, input),
    recordRevocation: (input: RecordRevocationInput) => recordRevocation(db, input),
    recordEnd: (input: RecordEndInput) => recordEnd(db, input),
    recordRefusedMessage: (input: RecordRefusedMessageInput) => recordRefusedMessage(db, input),
    recordFailure: (input: RecordFailureInput) => recordFailure(db, input),
    recordTokenIssued: (input: RecordTokenIssuedInput) => recordTokenIssued(db, input),
    recordBreakGlassOpened: (input: RecordBreakGlassInput) => recordBreakGlassOpened(db, input),
    recordRetroReview: (input: RecordRetroReviewInput) => recordRetroReview(db, input),
    recordRetroUnreviewed: (input: { accessRequestId: string; at: number }) => recordRetroUnreviewed(db, input),
  };
}
