import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Tenant } from '../../kernel/tenant';
import { AccountNotFound } from '../domain/rules';
import { AccountHistory, TrailEntry } from './account-history';

/** At most one of after and before; both are revisions, exclusive. */
export interface AccountEventsPage {
  size: number;
  after?: bigint;
  before?: bigint;
}

/** GET /accounts/{id}/events: the account's events, oldest first, a page at a time. */
export class GetAccountEventsQuery {
  constructor(
    readonly tenant: Tenant,
    readonly accountId: string,
    /** Only events of these types; null: every type. */
    readonly eventTypes: readonly string[] | null,
    readonly page: AccountEventsPage,
  ) {}
}

export interface AccountEventsView {
  accountId: string;
  /** Oldest first. */
  entries: TrailEntry[];
  /** Where the page of earlier events ends (its `before`), or null when none are earlier. */
  earlier: bigint | null;
  /** Where the page of later events starts (its `after`), or null when none are later. */
  later: bigint | null;
}

@QueryHandler(GetAccountEventsQuery)
export class GetAccountEventsHandler implements IQueryHandler<GetAccountEventsQuery, AccountEventsView> {
  constructor(private readonly history: AccountHistory) {}

  async execute({ tenant, accountId, eventTypes, page }: GetAccountEventsQuery): Promise<AccountEventsView> {
    // From the stream, not the read model: always complete, and nothing to wait for.
    const trail = await this.history.trail(accountId, tenant);
    if (!trail) throw AccountNotFound();
    const matching = eventTypes ? trail.events.filter((event) => eventTypes.includes(event.type)) : trail.events;
    const { after, before, size } = page;
    const selected =
      before !== undefined
        ? matching.filter((event) => event.revision < before).slice(-size)
        : matching.filter((event) => after === undefined || event.revision > after).slice(0, size);
    // An empty page has no events to bound its neighbours: they start at the cursor it was asked with.
    const first = selected[0]?.revision ?? before ?? (after !== undefined ? after + 1n : undefined);
    const last = selected.at(-1)?.revision ?? after ?? (before !== undefined ? before - 1n : undefined);
    return {
      accountId,
      entries: await this.history.review(trail, selected),
      earlier: first !== undefined && matching.some((event) => event.revision < first) ? first : null,
      later: last !== undefined && matching.some((event) => event.revision > last) ? last : null,
    };
  }
}
