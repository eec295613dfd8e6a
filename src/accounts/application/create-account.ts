import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor } from '../../kernel/tenant';
import { AccountInput } from '../domain/shapes';
import { AccountRepository } from './account-repository';
import { runAccountCommand, WriteResult } from './run-account-command';

export class CreateAccountCommand {
  constructor(
    readonly actor: Actor,
    readonly attributes: AccountInput & { entity_type: string },
  ) {}
}

@CommandHandler(CreateAccountCommand)
export class CreateAccountHandler implements ICommandHandler<CreateAccountCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly ids: IdFactory,
    private readonly clock: Clock,
  ) {}

  execute({ actor, attributes }: CreateAccountCommand): Promise<WriteResult> {
    const accountId = this.ids.accountId();
    return runAccountCommand(this.repository, {
      accountId,
      actor,
      command: () => ({ kind: 'CreateAccount', account_id: accountId, tenant: actor.tenant, attributes, now: toTimestamp(this.clock.now()) }),
    });
  }
}
