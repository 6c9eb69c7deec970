import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition, Workflow } from '@temporalio/common';
import { Rejection } from '../domain/review-rejection.js';
import { workflowRejection } from './access-request-service.js';
import { rejectionProblem } from './rejection-status.js';

// How the API sends a vouched message to a freeze's or an incident's workflow: the workflow's
// refusal becomes the problem the caller reads; a workflow no longer running says so.

/** Starts `workflowType` under `id` (a retry joins it) and waits for `recorded`: the workflow has written its record. */
export async function startRecorded<W extends Workflow>(
  temporal: Client,
  recorded: UpdateDefinition<unknown, []>,
  workflowType: string,
  options: { id: string; taskQueue: string; args: Parameters<W> },
): Promise<void> {
  try {
    await temporal.workflow.executeUpdateWithStart(recorded, {
      // The arguments are typed at the call (Parameters<W>); the SDK's conditional type cannot see it here.
      startWorkflowOperation: new WithStartWorkflowOperation<W>(workflowType, {
        workflowId: options.id,
        taskQueue: options.taskQueue,
        args: options.args,
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      } as never),
    });
  } catch (error) {
    const rejection = workflowRejection(error);
    if (rejection) throw rejectionProblem(rejection);
    throw error;
  }
}

/** Sends one Update with its arguments; `what` names the workflow in the refusal when it is not running. */
export async function sendUpdate(temporal: Client, id: string, update: UpdateDefinition<unknown, [never]>, message: object, what: string): Promise<void> {
  try {
    await temporal.workflow.getHandle(id).executeUpdate(update, { args: [message as never] });
  } catch (error) {
    const rejection = workflowRejection(error);
    if (rejection) throw rejectionProblem(rejection);
    if (error instanceof WorkflowNotFoundError)
      throw rejectionProblem(new Rejection('NOT_ACTIVE', `The ${what} ${id} has no running workflow (ended, or ended abnormally); nothing was changed.`));
    throw error;
  }
}
