import { BeforeApplicationShutdown, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { MASTER_KEY } from '../crypto/master-key';
import { PersonalDataCipher } from '../crypto/personal-data-cipher';
import { JsonLogger } from '../http/json-logger';
import { Clock } from '../kernel/clock';
import { IdFactory } from '../kernel/ids';
import { EventStore } from '../storage/event-store.port';
import { AccountEventCodec } from './application/account-event-codec';
import { AccountRepository } from './application/account-repository';
import { ChangeStatusHandler } from './application/change-status';
import { CreateAccountHandler } from './application/create-account';
import { ExternalIdReservations } from './application/external-id-reservations';
import { GetAccountHandler } from './application/get-account';
import { ListAccountsHandler } from './application/list-accounts';
import { RedactAccountHandler } from './application/redact-account';
import { UpdateAccountHandler } from './application/update-account';
import { AccountsController } from './http/accounts.controller';
import { AccountProjection } from './projection/account-projection';
import { AccountReadModel } from './projection/account-read-model.port';
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

/** The Accounts slice: one handler per command and query, wired here and nowhere else. */
@Module({
  imports: [CqrsModule],
  controllers: [AccountsController],
  providers: [
    { provide: AccountEventCodec, useFactory: (cipher: PersonalDataCipher) => new AccountEventCodec(cipher), inject: [PersonalDataCipher] },
    { provide: AccountRowCodec, useFactory: (cipher: PersonalDataCipher) => new AccountRowCodec(cipher), inject: [PersonalDataCipher] },
    {
      provide: AccountRepository,
      useFactory: (store: EventStore, codec: AccountEventCodec, ids: IdFactory, clock: Clock) => new AccountRepository(store, codec, ids, clock),
      inject: [EventStore, AccountEventCodec, IdFactory, Clock],
    },
    {
      provide: AccountProjection,
      useFactory: (
        store: EventStore,
        readModel: AccountReadModel,
        codec: AccountEventCodec,
        rows: AccountRowCodec,
        cipher: PersonalDataCipher,
        config: AppConfig,
        logger: JsonLogger,
      ) =>
        new AccountProjection(store, readModel, codec, rows, {
          ...config.projection,
          onRedacted: (accountId) => cipher.shred(accountId),
          onError: (error) => logger.event('error', 'projection batch failed; retrying', { error: error instanceof Error ? error.name : 'unknown' }),
        }),
      inject: [EventStore, AccountReadModel, AccountEventCodec, AccountRowCodec, PersonalDataCipher, APP_CONFIG, JsonLogger],
    },
    {
      provide: ExternalIdReservations,
      useFactory: (store: EventStore, repository: AccountRepository, masterKey: Buffer, ids: IdFactory, clock: Clock) =>
        new ExternalIdReservations(store, repository, masterKey, ids, clock),
      inject: [EventStore, AccountRepository, MASTER_KEY, IdFactory, Clock],
    },
    ListAccountsHandler,
    ProjectionLifecycle,
    CreateAccountHandler,
    UpdateAccountHandler,
    ChangeStatusHandler,
    RedactAccountHandler,
    GetAccountHandler,
  ],
})
export class AccountsModule {}
