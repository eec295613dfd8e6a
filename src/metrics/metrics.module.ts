import { DynamicModule, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AppConfig } from '../config/app-config';
import { Services } from '../composition-root';
import { SERVICES } from '../nest-services';
import { CommandMetrics } from './command-metrics';
import { Metrics } from './metrics';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';

/** The projection gauges read the composition root's projection lag at each scrape. */
@Injectable()
class ProjectionGauges implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    @Inject(SERVICES) private readonly services: Services,
  ) {}
  onModuleInit() {
    this.metrics.watchProjection(() => this.services.projectionLag.read());
  }
}

/** /metrics, on the main port or (METRICS_PORT) on its own. The Metrics service itself is the core module's, for every module to record into. */
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      imports: [CqrsModule],
      controllers: config.metricsPort === null ? [MetricsController] : [],
      providers: [CommandMetrics, ProjectionGauges, MetricsServer],
    };
  }
}
