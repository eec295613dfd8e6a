import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AccountAuditModule } from './accounts/audit/account-audit.module';
import { AccountReadModel } from './accounts/projection/account-read-model.port';
import { ApiKeyStore } from './auth/api-key-store.port';
import { AuthModule } from './auth/auth.module';
import { Services } from './composition-root';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { DataKeyStore } from './crypto/data-key-store.port';
import { PersonalDataCipher } from './crypto/personal-data-cipher';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { HttpDrain, RequestsInFlight } from './http/drain';
import { JsonApiExceptionFilter } from './http/jsonapi-exception.filter';
import { Clock } from './kernel/clock';
import { IdFactory } from './kernel/ids';
import { LimitsModule } from './limits/limits.module';
import { AppLogger } from './logging/logger';
import { Metrics } from './metrics/metrics';
import { MetricsModule } from './metrics/metrics.module';
import { fromServices, SERVICES, ServicesLifecycle } from './nest-services';
import { EventStore } from './storage/event-store.port';

/** What createApp builds before Nest starts, for every module: the composition root's services and the metrics. */
export interface BuiltBeforeNest {
  services: Services;
  metrics: Metrics;
}

const SHARED = [APP_CONFIG, AppLogger, Metrics, SERVICES, Clock, IdFactory, EventStore, AccountReadModel, DataKeyStore, ApiKeyStore, PersonalDataCipher];

/**
 * The configuration, the logger, the metrics, and the composition root's services (the one clock,
 * id factory, stores and cipher among them), for every module of the app.
 */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, logger: AppLogger, built: BuiltBeforeNest): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: AppLogger, useValue: logger },
        { provide: Metrics, useValue: built.metrics },
        { provide: SERVICES, useValue: built.services },
        fromServices(Clock, (s) => s.clock),
        fromServices(IdFactory, (s) => s.ids),
        fromServices(EventStore, (s) => s.eventStore),
        fromServices(AccountReadModel, (s) => s.readModel),
        fromServices(DataKeyStore, (s) => s.dataKeys),
        fromServices(ApiKeyStore, (s) => s.apiKeyStore),
        fromServices(PersonalDataCipher, (s) => s.cipher),
        ServicesLifecycle,
        RequestsInFlight,
        HttpDrain,
      ],
      exports: SHARED,
    };
  }
}

@Module({})
export class AppModule {
  /** `logger` is the app's own (createApp makes it before Nest starts, so Nest logs through it too). */
  static forRoot(config: AppConfig, logger: AppLogger, built: BuiltBeforeNest): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger, built),
        AuthModule,
        LimitsModule,
        IdempotencyModule,
        AccountsModule,
        AccountAuditModule,
        HealthModule,
        MetricsModule.forRoot(config),
      ],
      providers: [{ provide: APP_FILTER, useClass: JsonApiExceptionFilter }],
    };
  }
}
