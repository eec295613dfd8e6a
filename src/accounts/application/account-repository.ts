import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor } from '../../kernel/tenant';
import { AppendResult, EventStore, NO_STREAM, Position, START } from '../../storage/event-store.port';
import { Account } from '../domain/account';
import { evolve } from '../domain/evolve';
import { AccountEvent } from '../domain/events';
import { AccountEventCodec } from './account-event-codec';
import { hashOfStoredEvent } from './event-chain';

export const EVENT_SCHEMA_VERSION = 1;
export const accountStream = (accountId: string) => `account-${accountId}`;
export const ACCOUNT_STREAM_PREFIX = 'account-';

export interface LoadedAccount {
  accountId: string;
  state: Account | null;
  revision: bigint | typeof NO_STREAM;
  /** Global position of the stream's last event (START when empty). */
  position: Position;
  lastHash: string | null;
}

/** Loads an account by folding its stream, and appends new events with the stream's revision. */
export class AccountRepository {
  constructor(
    private readonly store: EventStore,
    private readonly codec: AccountEventCodec,
    private readonly ids: IdFactory,
    private readonly clock: Clock,
  ) {}

  async load(accountId: string): Promise<LoadedAccount> {
    const recorded = await this.store.readStream(accountStream(accountId));
    let state: Account | null = null;
    for (const event of recorded) state = evolve(state, await this.codec.decode(accountId, event));
    const last = recorded.at(-1);
    return {
      accountId,
      state,
      revision: last ? last.revision : NO_STREAM,
      position: last ? last.position : START,
      lastHash: last ? hashOfStoredEvent(last) : null,
    };
  }

  async append(loaded: LoadedAccount, events: AccountEvent[], actor: Actor): Promise<AppendResult> {
    let prevHash = loaded.lastHash;
    const toAppend = [];
    for (const event of events) {
      const { type, data } = await this.codec.encode(loaded.accountId, event);
      const metadata = eventMetadata(actor, toTimestamp(this.clock.now()), prevHash);
      toAppend.push({ id: this.ids.eventId(), type, data, metadata });
      prevHash = hashOfStoredEvent({ type, data, metadata });
    }
    return this.store.appendToStream(accountStream(loaded.accountId), toAppend, loaded.revision);
  }
}

/** The metadata every stored event carries (docs/EVENTS.md): who, which request, when, and the chain. */
export function eventMetadata(actor: Actor, occurredAt: string, prevHash: string | null): Record<string, unknown> {
  return {
    schema_version: EVENT_SCHEMA_VERSION,
    tenant: actor.tenant,
    api_key_id: actor.api_key_id,
    request_id: actor.request_id,
    correlation_id: actor.correlation_id,
    causation_id: actor.request_id,
    occurred_at: occurredAt,
    prev_hash: prevHash,
  };
}
