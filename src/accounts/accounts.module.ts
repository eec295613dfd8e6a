import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { fromServices } from '../nest-services';
import { AccountErasure } from './application/account-erasure';
import { AccountEventCodec } from './application/account-event-codec';
import { AccountRepository } from './application/account-repository';
import { ChangeRelatedHandler } from './application/change-related';
import { ChangeStatusHandler } from './application/change-status';
import { CreateAccountHandler } from './application/create-account';
import { ExternalIdReservations } from './application/external-id-reservations';
import { GetAccountHandler } from './application/get-account';
import { ListAccountsHandler } from './application/list-accounts';
import { RedactAccountHandler } from './application/redact-account';
import { UpdateAccountHandler } from './application/update-account';
import { AccountRelationshipsController } from './http/account-relationships.controller';
import { AccountsController } from './http/accounts.controller';
import { AccountProjection } from './projection/account-projection';
import { AccountRowCodec } from './projection/account-row-codec';

class ProjectionLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(AccountProjection) private readonly projection: AccountProjection) {}
  onApplicationBootstrap() {
    this.projection.start();
  }
  beforeApplicationShutdown() {
    return this.projection.stop();
  }
}

/** The Accounts slice: one handler per command and query. */
@Module({
  imports: [CqrsModule, IdempotencyModule],
  controllers: [AccountsController, AccountRelationshipsController],
  providers: [
    // Built by the composition root, as the CLI and the tests build them.
    fromServices(AccountEventCodec, (s) => s.eventCodec),
    fromServices(AccountRowCodec, (s) => s.rowCodec),
    fromServices(AccountRepository, (s) => s.repository),
    fromServices(AccountProjection, (s) => s.projection),
    fromServices(ExternalIdReservations, (s) => s.reservations),
    fromServices(AccountErasure, (s) => s.erasure),
    ListAccountsHandler,
    ProjectionLifecycle,
    CreateAccountHandler,
    UpdateAccountHandler,
    ChangeStatusHandler,
    RedactAccountHandler,
    ChangeRelatedHandler,
    GetAccountHandler,
  ],
})
export class AccountsModule {}
