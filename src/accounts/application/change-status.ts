import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { Actor } from '../../kernel/tenant';
import { AccountStatus } from '../domain/account';
import { AccountRepository } from './account-repository';
import { runAccountCommand, WriteResult } from './run-account-command';

export class ChangeStatusCommand {
  constructor(
    readonly actor: Actor,
    readonly accountId: string,
    readonly status: AccountStatus,
    readonly reason: string | null,
    readonly ifMatch?: bigint,
  ) {}
}

@CommandHandler(ChangeStatusCommand)
export class ChangeStatusHandler implements ICommandHandler<ChangeStatusCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly clock: Clock,
  ) {}

  execute({ actor, accountId, status, reason, ifMatch }: ChangeStatusCommand): Promise<WriteResult> {
    return runAccountCommand(this.repository, {
      accountId,
      actor,
      ifMatch,
      command: () => ({ kind: 'ChangeStatus', status, reason, now: toTimestamp(this.clock.now()) }),
    });
  }
}
