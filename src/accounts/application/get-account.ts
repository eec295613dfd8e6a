import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { Tenant } from '../../kernel/tenant';
import { Position } from '../../storage/event-store.port';
import { Account } from '../domain/account';
import { AccountNotFound } from '../domain/rules';
import { AccountProjection } from '../projection/account-projection';
import { AccountReadModel } from '../projection/account-read-model.port';
import { AccountRowCodec } from '../projection/account-row-codec';

export class GetAccountQuery {
  constructor(
    readonly tenant: Tenant,
    readonly accountId: string,
    /** A write's position: the answer reflects at least that write (read-your-writes). */
    readonly atLeastPosition?: Position,
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

  async execute({ tenant, accountId, atLeastPosition }: GetAccountQuery): Promise<AccountView> {
    // After a write, its position is known; otherwise every write acknowledged so far counts.
    if (atLeastPosition !== undefined) await this.projection.waitFor(atLeastPosition);
    else await this.projection.waitForHead();
    const row = await this.readModel.get(tenant, accountId);
    if (!row) throw AccountNotFound();
    return { account: await this.rows.toAccount(row), revision: row.revision };
  }
}
