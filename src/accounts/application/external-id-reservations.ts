import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor, sameTenant, Tenant } from '../../kernel/tenant';
import { EventStore, NO_STREAM, WrongExpectedRevision } from '../../storage/event-store.port';
import { AccountRuleViolation } from '../domain/errors';
import { ACCOUNT_CREATION_ABANDONED, ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED } from '../domain/events';
import { AccountRepository, accountStream, LoadedAccount } from './account-repository';
import { EventChain, eventMetadata, hashOfStoredEvent } from './event-chain';

// external_id is unique per tenant (docs/API.md), enforced by the event store itself so that it holds
// across processes and instances: one stream per (tenant, external_id), appended to with expected
// revisions. Event type names are stable strings, stored forever.
export const EXTERNAL_ID_RESERVED = 'external_id.reserved';
export const EXTERNAL_ID_RELEASED = 'external_id.released';
/** Not `account-`: the account projection and folds of account streams pass these streams by. */
export const RESERVATION_STREAM_PREFIX = 'external-id-';

export const ExternalIdTaken = (holder: string) =>
  new AccountRuleViolation('external_id_taken', 'Another account of this tenant already has this external_id', 'external_id', {
    account_id: holder,
  });

/** This account id was fenced before its first event was written: the create must start over under a new id. */
export class AccountCreationAbandoned extends Error {
  constructor(readonly accountId: string) {
    super(`The creation of ${accountId} was abandoned`);
    this.name = 'AccountCreationAbandoned';
  }
}

type Revision = bigint | typeof NO_STREAM;

export interface ExternalIdClaim {
  actor: Actor;
  externalId: string;
  accountId: string;
  /** The revision the account's own write (the one that adopts the id) will expect: NO_STREAM for a create. */
  expected: Revision;
}

type Reservation =
  | { holder: null; revision: Revision; lastHash: string | null }
  | { holder: string; expected: Revision; revision: bigint; lastHash: string; reservedAt: string };

export interface ReservationOptions {
  /** How long a claim whose write has not landed yet is given before it is fenced as abandoned. */
  pendingGraceMs: number;
}

const MAX_ATTEMPTS = 50;
const order = (revision: Revision) => (revision === NO_STREAM ? -1n : revision);

/**
 * An id is held by the account named in the stream's last `reserved` event, as long as that account
 * has it, or its write that will adopt it may still land (its stream is still at the revision the
 * claim recorded). Anything else is a dead claim (a crash, a lost race, a PATCH that moved on) and
 * is taken over with the stream's revision, so two claimers can never both win.
 */
export class ExternalIdReservations {
  constructor(
    private readonly store: EventStore,
    private readonly repository: AccountRepository,
    private readonly chain: EventChain,
    /** The deployment's naming key (crypto/deployment-keys.ts): the same for the store's whole life. */
    private readonly namingKey: Buffer,
    private readonly ids: IdFactory,
    private readonly clock: Clock,
    private readonly options: ReservationOptions = { pendingGraceMs: 2000 },
  ) {}

  /** Named by an HMAC: stream names are bounded and reveal neither the tenant nor the external_id. */
  streamOf(tenant: Tenant, externalId: string): string {
    const mac = createHmac('sha256', this.namingKey).update(`${tenant.organization_id}|${tenant.environment}|${externalId}`, 'utf8').digest('hex');
    return `${RESERVATION_STREAM_PREFIX}${mac}`;
  }

  async holderOf(tenant: Tenant, externalId: string): Promise<string | null> {
    return (await this.read(this.streamOf(tenant, externalId))).holder;
  }

  /** Reserves the id for the account before the account's write, or throws external_id_taken naming the holder. */
  async claim(claim: ExternalIdClaim): Promise<void> {
    const stream = this.streamOf(claim.actor.tenant, claim.externalId);
    let graceGiven: string | null = null;
    for (let attempt = 1; ; attempt++) {
      try {
        const reservation = await this.read(stream);
        if (reservation.holder === null) return await this.reserve(stream, reservation, claim);
        if (reservation.holder === claim.accountId) {
          // A claim of this account at the same or a later revision covers this one; an earlier one is dead.
          if (order(reservation.expected) >= order(claim.expected)) return;
          return await this.reserve(stream, reservation, claim);
        }
        const holder = await this.repository.load(reservation.holder);
        const state = holder.state;
        if (state && sameTenant(state.tenant, claim.actor.tenant) && state.external_id === claim.externalId) {
          throw ExternalIdTaken(reservation.holder);
        }
        if (holder.revision === reservation.expected) {
          // The holder's write may still be on its way: give it time to land, then fence it so it never can.
          const pending = `${reservation.holder}@${reservation.revision}`;
          if (graceGiven !== pending) {
            graceGiven = pending;
            await this.waitWhilePending(stream, reservation);
            continue;
          }
          await this.fence(holder, claim.actor);
        }
        return await this.reserve(stream, reservation, claim);
      } catch (error) {
        // Somebody else wrote to the reservation or the holder's stream first: look again.
        if (!(error instanceof WrongExpectedRevision) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  /** Frees an id the account no longer has (after a PATCH moved it elsewhere); a no-op if it is not the holder. */
  async release(request: { actor: Actor; externalId: string; accountId: string }): Promise<void> {
    const stream = this.streamOf(request.actor.tenant, request.externalId);
    for (let attempt = 1; ; attempt++) {
      try {
        const reservation = await this.read(stream);
        if (reservation.holder === null || reservation.holder !== request.accountId) return;
        const holder = await this.repository.load(request.accountId);
        // It has the id again, or another request of it claimed it and may still write: not ours to free.
        if (holder.state?.external_id === request.externalId || holder.revision === reservation.expected) return;
        await this.append(stream, reservation, EXTERNAL_ID_RELEASED, { account_id: request.accountId }, request.actor);
        return;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision) || attempt >= MAX_ATTEMPTS) throw error;
      }
    }
  }

  private async reserve(stream: string, reservation: Reservation, claim: ExternalIdClaim): Promise<void> {
    const expectedRevision = claim.expected === NO_STREAM ? null : Number(claim.expected);
    await this.append(stream, reservation, EXTERNAL_ID_RESERVED, { account_id: claim.accountId, expected_revision: expectedRevision }, claim.actor);
  }

  /**
   * Moves the holder's stream past the revision its pending write expects, so that write fails.
   * A never-created account gets a stream that holds only this marker: its id can never be used.
   */
  private async fence(holder: LoadedAccount, actor: Actor): Promise<void> {
    const type = holder.state ? ACCOUNT_EXTERNAL_ID_CHANGE_ABANDONED : ACCOUNT_CREATION_ABANDONED;
    await this.repository.append(holder, [{ type, data: { account_id: holder.accountId } }], actor);
  }

  /** Returns once the holder's stream or the reservation moves, or the grace is over. */
  private async waitWhilePending(stream: string, reservation: Reservation & { holder: string }): Promise<void> {
    const grace = this.options.pendingGraceMs;
    // occurred_at has whole seconds: a claim clearly older than the grace belongs to a request that died.
    if (this.clock.now().getTime() - Date.parse(reservation.reservedAt) > grace + 1000) return;
    const deadline = Date.now() + grace;
    for (let pause = 5; Date.now() < deadline; pause = Math.min(pause * 2, 50)) {
      await sleep(pause);
      const head = (await this.store.readStream(accountStream(reservation.holder))).at(-1)?.revision ?? NO_STREAM;
      if (head !== reservation.expected) return;
      if ((await this.read(stream)).revision !== reservation.revision) return;
    }
  }

  private async read(stream: string): Promise<Reservation> {
    const events = await this.store.readStream(stream);
    const last = events.at(-1);
    if (!last) return { holder: null, revision: NO_STREAM, lastHash: null };
    const lastHash = hashOfStoredEvent(last);
    if (last.type !== EXTERNAL_ID_RESERVED) return { holder: null, revision: last.revision, lastHash };
    const data = last.data as { account_id: string; expected_revision: number | null };
    return {
      holder: data.account_id,
      expected: data.expected_revision === null ? NO_STREAM : BigInt(data.expected_revision),
      revision: last.revision,
      lastHash,
      reservedAt: String(last.metadata.occurred_at),
    };
  }

  private async append(stream: string, reservation: Reservation, type: string, data: Record<string, unknown>, actor: Actor): Promise<void> {
    const event = { id: this.ids.eventId(), type, data, metadata: eventMetadata(actor, toTimestamp(this.clock.now())) };
    await this.store.appendToStream(stream, this.chain.extend(stream, { revision: reservation.revision, hash: reservation.lastHash }, [event]), reservation.revision);
  }
}
