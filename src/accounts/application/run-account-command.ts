import { Actor, sameTenant } from '../../kernel/tenant';
import { WrongExpectedRevision } from '../../storage/event-store.port';
import { Account } from '../domain/account';
import { AccountCommand } from '../domain/commands';
import { decide } from '../domain/decide';
import { AccountNotFound } from '../domain/rules';
import { AccountRepository, LoadedAccount } from './account-repository';

/** What a write tells the caller: where the account's stream now stands. */
export interface WriteResult {
  accountId: string;
  revision: bigint;
  /** Global position of the stream's last event; a read that waits for it sees this write. */
  position: bigint;
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
 */
export async function runAccountCommand(
  repository: AccountRepository,
  request: {
    accountId: string;
    actor: Actor;
    ifMatch?: bigint;
    command: (state: Account | null) => AccountCommand;
  },
): Promise<WriteResult> {
  for (let attempt = 1; ; attempt++) {
    const loaded = await repository.load(request.accountId);
    if (loaded.state && !sameTenant(loaded.state.tenant, request.actor.tenant)) throw AccountNotFound();
    checkPrecondition(loaded, request.ifMatch);
    const events = decide(request.command(loaded.state), loaded.state);
    if (events.length === 0) return resultOf(loaded, loaded.position);
    try {
      const appended = await repository.append(loaded, events, request.actor);
      return { accountId: request.accountId, revision: appended.nextExpectedRevision, position: appended.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
      if (request.ifMatch !== undefined) throw new StaleRevision(request.ifMatch, typeof error.actual === 'bigint' ? error.actual : null);
      if (attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

function checkPrecondition(loaded: LoadedAccount, ifMatch: bigint | undefined) {
  if (ifMatch === undefined || !loaded.state) return;
  if (loaded.revision !== ifMatch) throw new StaleRevision(ifMatch, typeof loaded.revision === 'bigint' ? loaded.revision : null);
}

function resultOf(loaded: LoadedAccount, position: bigint): WriteResult {
  if (!loaded.state || typeof loaded.revision !== 'bigint') throw AccountNotFound();
  return { accountId: loaded.accountId, revision: loaded.revision, position };
}
