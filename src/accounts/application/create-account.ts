import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Clock, toTimestamp } from '../../kernel/clock';
import { IdFactory } from '../../kernel/ids';
import { Actor, sameTenant } from '../../kernel/tenant';
import { AccountRuleViolation } from '../domain/errors';
import { AccountInput } from '../domain/shapes';
import { AccountRepository } from './account-repository';
import { AccountCreationAbandoned, ExternalIdReservations, ExternalIdTaken } from './external-id-reservations';
import { runAccountCommand, WriteResult } from './run-account-command';

/**
 * The account id of an idempotent create (Idempotency-Key), chosen and recorded with its key before
 * the account is written: a retry after a lost answer or a crash finds the account made under it
 * instead of making a second one.
 */
export interface RecordedAccountId {
  /** The id an earlier attempt of this request recorded, if any. */
  earlier: string | null;
  /** Records a new id before its account is written; throws when another attempt took the request over. */
  record(accountId: string): Promise<void>;
}

export class CreateAccountCommand {
  constructor(
    readonly actor: Actor,
    readonly attributes: AccountInput & { entity_type: string },
    readonly recordedId?: RecordedAccountId,
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

  async execute({ actor, attributes, recordedId }: CreateAccountCommand): Promise<WriteResult> {
    if (recordedId?.earlier) {
      const earlier = await this.repository.load(recordedId.earlier);
      // An earlier attempt of this very request made it (its answer was lost, or its process died): that is the answer.
      if (earlier.state && sameTenant(earlier.state.tenant, actor.tenant)) return { accountId: earlier.accountId, revision: earlier.revision as bigint, position: earlier.position, account: earlier.state };
    }
    for (let attempt = 1; ; attempt++) {
      // The earlier attempt's id while nothing was written under it; a fresh one, recorded first, otherwise.
      const accountId = attempt === 1 && recordedId?.earlier ? recordedId.earlier : this.ids.accountId();
      if (recordedId && accountId !== recordedId.earlier) await recordedId.record(accountId);
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
