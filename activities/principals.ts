import type { Db } from '../db/client.js';
import type { AssertionCheck, AssertionSubject } from '../contracts/principal-assertion.js';
import { verifyPrincipalAssertion } from '../tokens/principal-assertion.js';
import { publishedPublicKeys } from '../tokens/signing-keys.js';

export interface VerifyPrincipalInput {
  assertion?: string;
  subject: AssertionSubject;
}

/**
 * The workflow's check of who sent a message. A refusal is an answer, not a failure, so
 * Temporal does not retry it; a database that cannot be read is a failure, and is retried.
 */
export function createPrincipalActivities(db: Db) {
  return {
    async verifyPrincipal({ assertion, subject }: VerifyPrincipalInput): Promise<AssertionCheck> {
      return verifyPrincipalAssertion(await publishedPublicKeys(db), assertion, subject);
    },
  };
}
