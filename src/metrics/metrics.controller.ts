import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../auth/api-key.guard';
import { ApiPublic } from '../openapi/jsonapi-openapi';
import { Metrics } from './metrics';

/** Prometheus scrapes without a key; the labels say nothing of any tenant (metrics.ts). Absent when METRICS_PORT is set. */
@Controller()
@Public()
@SkipThrottle()
@ApiPublic()
@ApiTags('operations')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOperation({
    operationId: 'metrics',
    summary: 'Prometheus metrics',
    description: 'No key. The Prometheus text format: HTTP requests and durations by route pattern and status, commands by type and outcome, event-store appends, projection position and lag, idempotency replays, rate-limited requests, and the process. Served on METRICS_PORT instead when that is set.',
  })
  @ApiResponse({
    status: 200,
    description: 'The metrics',
    headers: { 'X-Request-Id': { description: "The request's id", required: true, schema: { type: 'string' } } },
    schema: { type: 'string' },
  })
  async scrape(@Res() response: Response) {
    // As prom-client writes it: Express's type() would reorder its parameters.
    response.setHeader('Content-Type', this.metrics.contentType);
    response.end(await this.metrics.render());
  }
}
