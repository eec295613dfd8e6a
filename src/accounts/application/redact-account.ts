import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { PersonalDataCipher } from '../../crypto/personal-data-cipher';
import { Clock, toTimestamp } from '../../kernel/clock';
import { Actor } from '../../kernel/tenant';
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
 * Records account.redacted, then destroys the account's data key (crypto-shredding): every sealed
 * copy of its personal data, in old events and anywhere else, becomes unreadable at once.
 */
@CommandHandler(RedactAccountCommand)
export class RedactAccountHandler implements ICommandHandler<RedactAccountCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly cipher: PersonalDataCipher,
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
    await this.cipher.shred(accountId);
    return written;
  }
}
