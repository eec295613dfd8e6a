import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Actor } from '../../kernel/tenant';
import { EventToAppend, NO_STREAM } from '../../storage/event-store.port';

// How every event is stored (docs/EVENTS.md): its metadata, its link to its predecessor, its seal.

/** 2: the metadata carries `seal`. Events of version 1 were written before seals existed. */
export const EVENT_SCHEMA_VERSION = 2;
export const FIRST_SEALED_SCHEMA_VERSION = 2;

/** The metadata every stored event carries: who, which request, when. The chain adds prev_hash and seal. */
export function eventMetadata(actor: Actor, occurredAt: string): Record<string, unknown> {
  return {
    schema_version: EVENT_SCHEMA_VERSION,
    tenant: actor.tenant,
    api_key_id: actor.api_key_id,
    request_id: actor.request_id,
    correlation_id: actor.correlation_id,
    causation_id: actor.request_id,
    occurred_at: occurredAt,
  };
}

type StoredShape = { type: string; data: unknown; metadata: unknown };

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Each event's metadata carries `prev_hash`, the hash of its predecessor as stored (ciphertext and
 * seal included), so the chain stays verifiable after redaction and any edit breaks it.
 */
export function hashOfStoredEvent(event: StoredShape): string {
  return sha256(JSON.stringify([event.type, event.data, event.metadata]));
}

/** What a seal covers: the event as stored but for the seal itself (prev_hash included). */
export function contentHash(event: StoredShape): string {
  const { seal: _seal, ...metadata } = event.metadata as Record<string, unknown>;
  return sha256(JSON.stringify([event.type, event.data, metadata]));
}

const SEAL_FORMAT = 'v1';

/** Where a stream stands before an append: its last revision and that event's hash. */
export interface StreamHead {
  revision: bigint | typeof NO_STREAM;
  hash: string | null;
}

export type SealCheck = 'valid' | 'invalid' | 'unsealed';

/**
 * prev_hash alone shows an edited event, but whoever can write the store can recompute every hash
 * of a stream. The seal, an HMAC over (stream, revision, content hash) under the audit key (first
 * derived from the master key, kept across master-key rotations: crypto/deployment-keys.ts), cannot
 * be recomputed without that key: a rewritten, moved or reordered event no longer carries a valid
 * seal. Seals cover ciphertext, so redaction (which destroys a data key, not an event) leaves every
 * seal valid.
 */
export class EventChain {
  constructor(private readonly auditKey: Buffer) {}

  /** The events as they are appended after `head`: each linked to its predecessor, then sealed at its revision. */
  extend(stream: string, head: StreamHead, events: EventToAppend[]): EventToAppend[] {
    let revision = head.revision === NO_STREAM ? 0n : head.revision + 1n;
    let prevHash = head.hash;
    return events.map((event) => {
      const linked: EventToAppend = { ...event, metadata: { ...event.metadata, prev_hash: prevHash } };
      linked.metadata.seal = this.sealOf(stream, revision, linked);
      prevHash = hashOfStoredEvent(linked);
      revision += 1n;
      return linked;
    });
  }

  sealOf(stream: string, revision: bigint, event: StoredShape): string {
    const mac = createHmac('sha256', this.auditKey).update(JSON.stringify([SEAL_FORMAT, stream, revision.toString(), contentHash(event)]), 'utf8');
    return `${SEAL_FORMAT}.${mac.digest('hex')}`;
  }

  checkSeal(event: StoredShape & { stream: string; revision: bigint }): SealCheck {
    const seal = (event.metadata as Record<string, unknown>).seal;
    if (seal === undefined) return 'unsealed';
    if (typeof seal !== 'string') return 'invalid';
    const expected = Buffer.from(this.sealOf(event.stream, event.revision, event), 'utf8');
    const given = Buffer.from(seal, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected) ? 'valid' : 'invalid';
  }
}
