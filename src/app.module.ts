import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AuthModule } from './auth/auth.module';
import { APP_CONFIG, AppConfig } from './config/app-config';
import { JsonApiExceptionFilter } from './http/jsonapi-exception.filter';
import { JsonLogger } from './http/json-logger';
import { HealthModule } from './health/health.module';
import { Clock, SystemClock } from './kernel/clock';
import { IdFactory, RandomIdFactory } from './kernel/ids';
import { StorageModule } from './storage/storage.module';

export interface AppOverrides {
  clock?: Clock;
  logger?: JsonLogger;
}

/** The one clock, id factory, logger and configuration of the whole app. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, overrides: AppOverrides): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: overrides.clock ?? new SystemClock() },
        { provide: IdFactory, useValue: new RandomIdFactory() },
        { provide: JsonLogger, useValue: overrides.logger ?? new JsonLogger() },
      ],
      exports: [APP_CONFIG, Clock, IdFactory, JsonLogger],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, overrides: AppOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [CoreModule.forRoot(config, overrides), StorageModule.forRoot(config), AuthModule, AccountsModule, HealthModule],
      providers: [{ provide: APP_FILTER, useClass: JsonApiExceptionFilter }],
    };
  }
}
