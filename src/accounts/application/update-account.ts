import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { Actor } from '../../kernel/tenant';
import { AccountInput } from '../domain/shapes';
import { AccountRepository } from './account-repository';
import { ExternalIdReservations } from './external-id-reservations';
import { runAccountCommand, WriteResult } from './run-account-command';

export class UpdateAccountCommand {
  constructor(
    readonly actor: Actor,
    readonly accountId: string,
    readonly attributes: AccountInput,
    readonly ifMatch?: bigint,
  ) {}
}

@CommandHandler(UpdateAccountCommand)
export class UpdateAccountHandler implements ICommandHandler<UpdateAccountCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reservations: ExternalIdReservations,
    private readonly clock: Clock,
  ) {}

  execute({ actor, accountId, attributes, ifMatch }: UpdateAccountCommand): Promise<WriteResult> {
    return runAccountCommand(this.repository, {
      accountId,
      actor,
      ifMatch,
      reservations: this.reservations,
      command: () => ({ kind: 'UpdateAccount', attributes, now: toTimestamp(this.clock.now()) }),
    });
  }
}
