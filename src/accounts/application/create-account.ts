import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor } from '../../kernel/tenant';
import { AccountRuleViolation } from '../domain/errors';
import { AccountInput } from '../domain/shapes';
import { AccountRepository } from './account-repository';
import { AccountCreationAbandoned, ExternalIdReservations, ExternalIdTaken } from './external-id-reservations';
import { runAccountCommand, WriteResult } from './run-account-command';

export class CreateAccountCommand {
  constructor(
    readonly actor: Actor,
    readonly attributes: AccountInput & { entity_type: string },
  ) {}
}

const MAX_FENCED = 3;

@CommandHandler(CreateAccountCommand)
export class CreateAccountHandler implements ICommandHandler<CreateAccountCommand, WriteResult> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reservations: ExternalIdReservations,
    private readonly ids: IdFactory,
    private readonly clock: Clock,
  ) {}

  async execute({ actor, attributes }: CreateAccountCommand): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const accountId = this.ids.accountId();
      try {
        return await runAccountCommand(this.repository, {
          accountId,
          actor,
          reservations: this.reservations,
          command: () => ({ kind: 'CreateAccount', account_id: accountId, tenant: actor.tenant, attributes, now: toTimestamp(this.clock.now()) }),
        });
      } catch (error) {
        if (!(error instanceof AccountCreationAbandoned)) throw error;
        // Our claim outlived its grace and another request fenced this id: nothing was written
        // under it, so start over under a new id, whose claim finds out who holds the external_id now.
        if (attempt < MAX_FENCED) continue;
        const holder = attributes.external_id ? await this.reservations.holderOf(actor.tenant, attributes.external_id) : null;
        if (holder) throw ExternalIdTaken(holder);
        throw new AccountRuleViolation('concurrent_modification', 'This external_id is being claimed by many requests at once: retry');
      }
    }
  }
}
