// One event of the hash-chained audit log (audit_events): what the chain appends and its hash
// covers, and the JSON form in which evidence bundles carry it and the hash reads it.

export interface ChainEvent {
  seq: bigint;
  id: string;
  type: string;
  actor: string;
  accessRequestId: string | null;
  payload: unknown;
  occurredAt: Date;
}

/** Each event names the hash of the one before it. */
export interface ChainLinks {
  prevHash: string;
  hash: string;
}

/** JSON has no bigint and no date: seq as a decimal string, the time in ISO 8601. */
export type ChainEventJson = Omit<ChainEvent, 'seq' | 'occurredAt'> & { seq: string; occurredAt: string };

// Both directions name every field rather than spreading: a database row carries more
// (dedupe key, hashes) than the hash may cover.

export function chainEventJson(event: ChainEvent): ChainEventJson {
  return {
    seq: event.seq.toString(),
    id: event.id,
    type: event.type,
    actor: event.actor,
    accessRequestId: event.accessRequestId,
    payload: event.payload,
    occurredAt: event.occurredAt.toISOString(),
  };
}

export function chainEventFromJson(event: ChainEventJson): ChainEvent {
  return {
    seq: BigInt(event.seq),
    id: event.id,
    type: event.type,
    actor: event.actor,
    accessRequestId: event.accessRequestId,
    payload: event.payload,
    occurredAt: new Date(event.occurredAt),
  };
}
