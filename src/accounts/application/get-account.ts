import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Tenant } from '../../kernel/tenant';
import { Account } from '../domain/account';
import { AccountNotFound } from '../domain/rules';
import { AccountProjection } from '../projection/account-projection';
import { AccountReadModel } from '../projection/account-read-model.port';
import { AccountRowCodec } from '../projection/account-row-codec';

export class GetAccountQuery {
  constructor(
    readonly tenant: Tenant,
    readonly accountId: string,
  ) {}
}

export interface AccountView {
  account: Account;
  revision: bigint;
}

@QueryHandler(GetAccountQuery)
export class GetAccountHandler implements IQueryHandler<GetAccountQuery, AccountView> {
  constructor(
    private readonly readModel: AccountReadModel,
    private readonly projection: AccountProjection,
    private readonly rows: AccountRowCodec,
  ) {}

  async execute({ tenant, accountId }: GetAccountQuery): Promise<AccountView> {
    // Every write acknowledged so far counts (read-your-writes), by this process or any other.
    await this.projection.waitForHead();
    const row = await this.readModel.get(tenant, accountId);
    if (!row) throw AccountNotFound();
    return { account: await this.rows.toAccount(row), revision: row.revision };
  }
}
