import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Tenant } from '../../kernel/tenant';
import { Account } from '../domain/account';
import { AccountProjection } from '../projection/account-projection';
import { AccountFilter, AccountReadModel, ListBound, ListRequest } from '../projection/account-read-model.port';
import { AccountRowCodec } from '../projection/account-row-codec';

/** List, filter, and look up by external_id (a filter that matches 0 or 1 account). */
export class ListAccountsQuery {
  constructor(
    readonly tenant: Tenant,
    readonly filter: AccountFilter,
    readonly page: ListRequest,
  ) {}
}

export interface AccountListView {
  accounts: Account[];
  newer: ListBound | null;
  older: ListBound | null;
}

@QueryHandler(ListAccountsQuery)
export class ListAccountsHandler implements IQueryHandler<ListAccountsQuery, AccountListView> {
  constructor(
    private readonly readModel: AccountReadModel,
    private readonly projection: AccountProjection,
    private readonly rows: AccountRowCodec,
  ) {}

  async execute({ tenant, filter, page }: ListAccountsQuery): Promise<AccountListView> {
    await this.projection.waitForHead();
    const { rows, newer, older } = await this.readModel.list(tenant, filter, page);
    return { accounts: await Promise.all(rows.map((row) => this.rows.toAccount(row))), newer, older };
  }
}
