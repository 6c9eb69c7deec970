import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import type { CaseTimeline, TimelineEntry } from '../../contracts/case-timeline.js';
import type { Db } from '../../db/client.js';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

const EventType = proto.temporal.api.enums.v1.EventType;

/**
 * Milliseconds of a protobuf Timestamp or Duration. Live histories carry `seconds` as a Long,
 * histories parsed from JSON as a number or string, so the SDK's tsToMs does not serve both.
 */
function toMs(value: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!value) return 0;
  return Number(String(value.seconds ?? 0)) * 1000 + Math.floor((value.nanos ?? 0) / 1e6);
}

function decode(payloads: { payloads?: unknown[] | null } | null | undefined): unknown[] {
  return (payloads?.payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    } catch {
      return '(undecodable payload)';
    }
  });
}

/** The principal an Update carried: the authenticated caller the API put in its arguments. */
function principalOf(arg: unknown): string | null {
  const a = arg as { reviewer?: { username?: string }; by?: { username?: string } } | undefined;
  return a?.reviewer?.username ?? a?.by?.username ?? null;
}

/** Workflow events an auditor cares about; workflow-task bookkeeping is left out. */
export function workflowEntries(history: History): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const updates = new Map<string, string>();
  const activities = new Map<string, string>();
  for (const event of history.events ?? []) {
    const at = new Date(toMs(event.eventTime)).toISOString();
    const push = (kind: string, actor: string | null, summary: string, detail: Record<string, unknown> = {}) =>
      entries.push({ at, source: 'workflow', kind, actor, summary, detail: { eventId: Number(event.eventId), ...detail } });
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const [input] = decode(event.workflowExecutionStartedEventAttributes?.input) as [{ reviewWindowMs?: number; policy?: unknown }?];
        push('workflow.started', null, 'access request workflow started', { reviewWindowMs: input?.reviewWindowMs, policy: input?.policy });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const a = event.workflowExecutionUpdateAcceptedEventAttributes!;
        const name = a.acceptedRequest?.input?.name ?? 'update';
        const [arg] = decode(a.acceptedRequest?.input?.args);
        const actor = principalOf(arg);
        updates.set(a.protocolInstanceId ?? '', name);
        const decision = (arg as { decision?: string } | undefined)?.decision;
        push(`update.${name}`, actor, `${name}${decision ? ` (${decision})` : ''}${actor ? ` by ${actor}` : ''} accepted`, decision ? { decision } : {});
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const a = event.workflowExecutionUpdateCompletedEventAttributes!;
        const name = updates.get(a.meta?.updateId ?? '') ?? 'update';
        const failure = a.outcome?.failure;
        push(`update.${name}.${failure ? 'failed' : 'completed'}`, null, failure ? `${name} refused: ${failure.message}` : `${name} completed`);
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED: {
        const a = event.timerStartedEventAttributes!;
        push('timer.started', null, `timer set for ${toMs(a.startToFireTimeout) / 1000} s`, { timerId: a.timerId });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        push('timer.fired', null, 'timer fired', { timerId: event.timerFiredEventAttributes?.timerId });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const name = event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
        activities.set(String(event.eventId), name);
        push('activity.scheduled', null, `${name} scheduled`, { activity: name });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const name = activities.get(String(event.activityTaskCompletedEventAttributes?.scheduledEventId)) ?? 'activity';
        push('activity.completed', null, `${name} recorded`, { activity: name });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        push('activity.failed', null, `activity failed: ${event.activityTaskFailedEventAttributes?.failure?.message ?? ''}`);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: {
        const [result] = decode(event.workflowExecutionCompletedEventAttributes?.result);
        push('workflow.completed', null, `workflow closed: ${String(result)}`, { status: result });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        push('workflow.ended', null, `workflow ended abnormally (${EventType[event.eventType!]})`);
        break;
      default:
        break;
    }
  }
  return entries;
}

/** The case's history: live from Temporal, else from the archive. */
export async function loadHistory(temporal: Client, db: Db, caseId: string): Promise<{ history?: History; source: CaseTimeline['historySource'] }> {
  try {
    return { history: await temporal.workflow.getHandle(caseId).fetchHistory(), source: 'live' };
  } catch (error) {
    // fetchHistory reports a deleted history as a bare gRPC NOT_FOUND (code 5).
    const gone = (error as { name?: string }).name === 'WorkflowNotFoundError' || (error as { code?: number }).code === 5;
    if (!gone) throw error;
  }
  const archived = await db.caseHistoryArchive.findUnique({ where: { accessRequestId: caseId } });
  if (!archived) return { source: 'none' };
  return { history: historyFromJSON(JSON.parse(archived.history)) as History, source: 'archive' };
}

/** One time-ordered account of a case from its three sources. */
export async function caseTimeline(deps: { temporal: Client; db: Db }, caseId: string): Promise<CaseTimeline> {
  const { history, source } = await loadHistory(deps.temporal, deps.db, caseId);
  const [events, accesses] = await Promise.all([
    deps.db.auditEvent.findMany({ where: { accessRequestId: caseId }, orderBy: { seq: 'asc' } }),
    deps.db.gatewayAccessRecord.findMany({ where: { grantId: caseId }, orderBy: { occurredAt: 'asc' } }),
  ]);
  const entries: TimelineEntry[] = [
    ...(history ? workflowEntries(history) : []),
    ...events.map((e) => ({
      at: e.occurredAt.toISOString(),
      source: 'record' as const,
      kind: e.type,
      actor: e.actor,
      summary: e.type.replace(/[._]/g, ' '),
      detail: { seq: e.seq.toString(), hash: e.hash, ...(e.payload as Record<string, unknown>) },
    })),
    ...accesses.map((a) => ({
      at: a.occurredAt.toISOString(),
      source: 'gateway' as const,
      kind: `access.${a.outcome}`,
      actor: a.username,
      summary: `${a.route} ${a.status}${a.reason ? ` (${a.reason})` : ''}`,
      detail: {
        jti: a.jti,
        study: a.study,
        series: a.series,
        instance: a.instance,
        status: a.status,
        bytes: Number(a.bytes),
        clientIp: a.clientIp,
        reason: a.reason,
      },
    })),
  ];
  const order = { workflow: 0, record: 1, gateway: 2 };
  entries.sort((x, y) => x.at.localeCompare(y.at) || order[x.source] - order[y.source]);
  return { caseId, historySource: source, entries };
}
