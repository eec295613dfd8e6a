import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Tenant } from '../../kernel/tenant';
import { AccountRuleViolation } from '../domain/errors';
import { AccountNotFound } from '../domain/rules';
import { AccountAt, AccountHistory } from './account-history';

/** A point in an account's history: a revision, or a time (the store's, to the millisecond). */
export type AsOf = { revision: bigint } | { time: Date; text: string };

/** GET /accounts/{id}?as_of=: the account as it was then, folded from its stream. */
export class GetAccountAsOfQuery {
  constructor(
    readonly tenant: Tenant,
    readonly accountId: string,
    readonly asOf: AsOf,
  ) {}
}

/** The account exists (for this tenant), but not at that point: said only after the tenant check. */
const NotYet = (detail: string) => new AccountRuleViolation('account_not_found', detail);

@QueryHandler(GetAccountAsOfQuery)
export class GetAccountAsOfHandler implements IQueryHandler<GetAccountAsOfQuery, AccountAt> {
  constructor(private readonly history: AccountHistory) {}

  async execute({ tenant, accountId, asOf }: GetAccountAsOfQuery): Promise<AccountAt> {
    const trail = await this.history.trail(accountId, tenant);
    if (!trail) throw AccountNotFound();
    if ('revision' in asOf) {
      const head = trail.events.at(-1)!.revision;
      if (asOf.revision > head) throw NotYet(`The account has no revision ${asOf.revision}: its latest is ${head}`);
      return (await this.history.stateAt(trail, (event) => event.revision <= asOf.revision))!;
    }
    const at = await this.history.stateAt(trail, (event) => event.recordedAt.getTime() <= asOf.time.getTime());
    if (!at) throw NotYet(`The account did not exist yet at ${asOf.text}: its first event was recorded at ${trail.events[0].recordedAt.toISOString()}`);
    return at;
  }
}
