import { sameTenant, Tenant } from '../../kernel/tenant';
import { EventStore, RecordedEvent } from '../../storage/event-store.port';
import { AccountEventCodec, ReviewedEvent } from '../application/account-event-codec';
import { accountStream } from '../application/account-repository';
import { hashOfStoredEvent } from '../application/event-chain';
import { Account } from '../domain/account';
import { ACCOUNT_CREATED, ACCOUNT_REDACTED } from '../domain/events';
import { evolve } from '../domain/evolve';

/** An account's whole stream, as the event store holds it. */
export interface AccountTrail {
  accountId: string;
  events: RecordedEvent[];
  /** Redacted now: no personal value of any of its events is opened, even if its key still exists. */
  redacted: boolean;
}

/** One event of a trail as a reviewer reads it. */
export interface TrailEntry extends ReviewedEvent {
  recorded: RecordedEvent;
  /** The event's own hash: the next event's prev_hash. */
  hash: string;
}

/** An account as it was after one of its events. */
export interface AccountAt {
  account: Account;
  revision: bigint;
  recordedAt: Date;
  redacted: boolean;
}

/**
 * The reviewers' read side: an account's history straight from its stream (never the read model),
 * folded with the domain's own `evolve`, so what a reviewer reads is what the account went through.
 */
export class AccountHistory {
  constructor(
    private readonly store: EventStore,
    private readonly codec: AccountEventCodec,
  ) {}

  /**
   * The account's trail, or null when the id names no account: no stream, a stream holding only a
   * fence, or (with a tenant) another tenant's account. Without a tenant: an operator's view (CLI).
   */
  async trail(accountId: string, tenant?: Tenant): Promise<AccountTrail | null> {
    const events = await this.store.readStream(accountStream(accountId));
    const first = events[0];
    if (!first || first.type !== ACCOUNT_CREATED) return null;
    if (tenant && !sameTenant(first.data.tenant as Tenant, tenant)) return null;
    return { accountId, events, redacted: events.some((event) => event.type === ACCOUNT_REDACTED) };
  }

  async review(trail: AccountTrail, events: RecordedEvent[]): Promise<TrailEntry[]> {
    const entries: TrailEntry[] = [];
    for (const recorded of events) entries.push(await this.entry(trail, recorded));
    return entries;
  }

  /** Every event of the trail with the account's state after it. */
  async *replay(trail: AccountTrail): AsyncGenerator<{ entry: TrailEntry; state: Account | null }> {
    let state: Account | null = null;
    for (const recorded of trail.events) {
      const entry = await this.entry(trail, recorded);
      state = evolve(state, entry.event);
      yield { entry, state };
    }
  }

  /** The account after the last of the leading events that `until` accepts; null when it did not exist yet. */
  async stateAt(trail: AccountTrail, until: (event: RecordedEvent) => boolean): Promise<AccountAt | null> {
    let state: Account | null = null;
    let last: RecordedEvent | null = null;
    for (const recorded of trail.events) {
      if (!until(recorded)) break;
      state = evolve(state, (await this.codec.review(trail.accountId, recorded, { redacted: trail.redacted })).event);
      last = recorded;
    }
    return state && last ? { account: state, revision: last.revision, recordedAt: last.recordedAt, redacted: trail.redacted } : null;
  }

  private async entry(trail: AccountTrail, recorded: RecordedEvent): Promise<TrailEntry> {
    const reviewed = await this.codec.review(trail.accountId, recorded, { redacted: trail.redacted });
    return { ...reviewed, recorded, hash: hashOfStoredEvent(recorded) };
  }
}
