import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor } from '../../kernel/tenant';
import { AppendResult, EventStore, NO_STREAM, Position, START } from '../../storage/event-store.port';
import { Account } from '../domain/account';
import { evolve } from '../domain/evolve';
import { AccountEvent } from '../domain/events';
import { AccountEventCodec } from './account-event-codec';
import { EventChain, eventMetadata, hashOfStoredEvent } from './event-chain';

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
    private readonly chain: EventChain,
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
    const stream = accountStream(loaded.accountId);
    const encoded = [];
    for (const event of events) {
      const { type, data } = await this.codec.encode(loaded.accountId, event);
      encoded.push({ id: this.ids.eventId(), type, data, metadata: eventMetadata(actor, toTimestamp(this.clock.now())) });
    }
    const chained = this.chain.extend(stream, { revision: loaded.revision, hash: loaded.lastHash }, encoded);
    return this.store.appendToStream(stream, chained, loaded.revision);
  }
}
