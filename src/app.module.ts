import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AccountAuditModule } from './accounts/audit/account-audit.module';
import { AccountReadModel } from './accounts/projection/account-read-model.port';
import { ApiKeyStore } from './auth/api-key-store.port';
import { AuthModule } from './auth/auth.module';
import { createServices, Services, ServicesOptions } from './composition-root';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { DataKeyStore } from './crypto/data-key-store.port';
import { PersonalDataCipher } from './crypto/personal-data-cipher';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { JsonApiExceptionFilter } from './http/jsonapi-exception.filter';
import { JsonLogger } from './http/json-logger';
import { Clock } from './kernel/clock';
import { IdFactory } from './kernel/ids';
import { fromServices, SERVICES, ServicesLifecycle } from './nest-services';
import { EventStore } from './storage/event-store.port';

export interface AppOverrides {
  clock?: Clock;
  logger?: JsonLogger;
  /** Services built beforehand (createApp does, so that a store that cannot be opened fails before Nest starts); closed with the app. */
  services?: Services;
  /** For tests: doubles in front of the stores, shorter idempotency leases. */
  servicesOptions?: Pick<ServicesOptions, 'decorate' | 'idempotency'>;
}

const SHARED = [APP_CONFIG, JsonLogger, SERVICES, Clock, IdFactory, EventStore, AccountReadModel, DataKeyStore, ApiKeyStore, PersonalDataCipher];

/**
 * The configuration, the logger, and the composition root's services (the one clock, id factory,
 * stores and cipher among them), for every module of the app.
 */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, overrides: AppOverrides): DynamicModule {
    const logger = overrides.logger ?? new JsonLogger();
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: JsonLogger, useValue: logger },
        { provide: SERVICES, useFactory: () => overrides.services ?? createServices(config, { ...overrides.servicesOptions, clock: overrides.clock, logger }) },
        fromServices(Clock, (s) => s.clock),
        fromServices(IdFactory, (s) => s.ids),
        fromServices(EventStore, (s) => s.eventStore),
        fromServices(AccountReadModel, (s) => s.readModel),
        fromServices(DataKeyStore, (s) => s.dataKeys),
        fromServices(ApiKeyStore, (s) => s.apiKeyStore),
        fromServices(PersonalDataCipher, (s) => s.cipher),
        ServicesLifecycle,
      ],
      exports: SHARED,
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, overrides), AuthModule, IdempotencyModule, AccountsModule, AccountAuditModule, HealthModule],
      providers: [{ provide: APP_FILTER, useClass: JsonApiExceptionFilter }],
    };
  }
}
