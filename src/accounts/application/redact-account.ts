import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { Actor } from '../../kernel/tenant';
import { AccountErasure } from './account-erasure';
import { AccountRepository } from './account-repository';
import { runAccountCommand, WriteResult } from './run-account-command';

export class RedactAccountCommand {
  constructor(
    readonly actor: Actor,
    readonly accountId: string,
    readonly ifMatch?: bigint,
  ) {}
}

/**
 * Records account.redacted, then erases (AccountErasure): the account's data key is destroyed
 * (crypto-shredding), so every sealed copy of its personal data, in old events and anywhere else,
 * becomes unreadable at once; stored answers holding it are purged too.
 */
@CommandHandler(RedactAccountCommand)
export class RedactAccountHandler implements ICommandHandler<RedactAccountCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly erasure: AccountErasure,
    private readonly clock: Clock,
  ) {}

  async execute({ actor, accountId, ifMatch }: RedactAccountCommand): Promise<WriteResult> {
    const written = await runAccountCommand(this.repository, {
      accountId,
      actor,
      ifMatch,
      command: () => ({ kind: 'RedactAccount', now: toTimestamp(this.clock.now()) }),
    });
    // Also when nothing new was recorded: a retry after a crash finishes the erasure.
    await this.erasure.erase(accountId);
    return written;
  }
}
