import { Actor, sameTenant } from '../../kernel/tenant';
import { NO_STREAM, Position, WrongExpectedRevision } from '../../storage/event-store.port';
import { Account } from '../domain/account';
import { AccountCommand } from '../domain/commands';
import { decide } from '../domain/decide';
import { fold } from '../domain/evolve';
import { AccountNotFound } from '../domain/rules';
import { AccountRepository, LoadedAccount } from './account-repository';
import { AccountCreationAbandoned, ExternalIdReservations } from './external-id-reservations';

/** What a write tells the caller: where the account's stream now stands. */
export interface WriteResult {
  accountId: string;
  revision: bigint;
  /** Global position of the stream's last event; a read that waits for it sees this write. */
  position: Position;
  /**
   * The account as this write left it: the fold of its stream up to `revision`, exactly what the
   * read model holds once it reaches `position` (its rows are the same fold), so the write is
   * answered without waiting for the projection.
   */
  account: Account;
}

/** The client's If-Match named a revision the account has moved past. */
export class StaleRevision extends Error {
  constructor(readonly expected: bigint, readonly actual: bigint | null) {
    super(`The account is at revision ${String(actual)}, not ${expected}`);
    this.name = 'StaleRevision';
  }
}

const MAX_ATTEMPTS = 20;

/**
 * The one way every account command runs: load, decide, append with the loaded revision. Without
 * If-Match a concurrent write makes it start over on the fresh state, so no update is lost.
 * A command that gives the account a new external_id claims it first (with the revision the append
 * will expect) and, once written, releases the one it had.
 */
export async function runAccountCommand(
  repository: AccountRepository,
  request: {
    accountId: string;
    actor: Actor;
    ifMatch?: bigint;
    command: (state: Account | null) => AccountCommand;
    /** Needed by commands that can change external_id: create and update. */
    reservations?: ExternalIdReservations;
  },
): Promise<WriteResult> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await repository.load(request.accountId);
    if (loaded.state && !sameTenant(loaded.state.tenant, request.actor.tenant)) throw AccountNotFound();
    checkPrecondition(loaded, request.ifMatch);
    const command = request.command(loaded.state);
    // A stream with events but no account holds only a fence: this id can never be created.
    if (command.kind === 'CreateAccount' && !loaded.state && loaded.revision !== NO_STREAM) throw new AccountCreationAbandoned(request.accountId);
    const events = decide(command, loaded.state);
    if (events.length === 0) return resultOf(loaded, loaded.position);
    const after = fold(events, loaded.state);
    const change = externalIdChange(loaded.state, after);
    if (change?.to) await reservationsFor(request).claim({ actor: request.actor, externalId: change.to, accountId: request.accountId, expected: loaded.revision });
    try {
      const appended = await repository.append(loaded, events, request.actor);
      if (change?.from) await releaseQuietly(reservationsFor(request), { actor: request.actor, externalId: change.from, accountId: request.accountId });
      if (!after) throw new Error(`A command left account ${request.accountId} without state`);
      return { accountId: request.accountId, revision: appended.nextExpectedRevision, position: appended.position, account: after };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
      if (request.ifMatch !== undefined) throw new StaleRevision(request.ifMatch, typeof error.actual === 'bigint' ? error.actual : null);
      if (attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

function externalIdChange(state: Account | null, after: Account | null): { from: string | null; to: string | null } | null {
  const from = state?.external_id ?? null;
  const to = after?.external_id ?? null;
  return from === to ? null : { from, to };
}

function reservationsFor(request: { reservations?: ExternalIdReservations }): ExternalIdReservations {
  if (!request.reservations) throw new Error('This command changes external_id, so its handler must pass the reservations');
  return request.reservations;
}

/** The write is done and acknowledged; an unreleased id is only a dead claim the next claimer takes over. */
async function releaseQuietly(reservations: ExternalIdReservations, request: Parameters<ExternalIdReservations['release']>[0]) {
  await reservations.release(request).catch(() => undefined);
}

function checkPrecondition(loaded: LoadedAccount, ifMatch: bigint | undefined) {
  if (ifMatch === undefined || !loaded.state) return;
  if (loaded.revision !== ifMatch) throw new StaleRevision(ifMatch, typeof loaded.revision === 'bigint' ? loaded.revision : null);
}

function resultOf(loaded: LoadedAccount, position: Position): WriteResult {
  if (!loaded.state || typeof loaded.revision !== 'bigint') throw AccountNotFound();
  return { accountId: loaded.accountId, revision: loaded.revision, position, account: loaded.state };
}
