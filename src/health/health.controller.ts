import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { Public } from '../auth/api-key.guard';
import { ApiPublic } from '../openapi/jsonapi-openapi';
import { LivenessDocs, ReadinessDocs } from './health.openapi';
import { Readiness } from './readiness';

/**
 * For probes (@nestjs/terminus): no key, no rate limit, nothing of any tenant. The answers are
 * terminus's own plain JSON (`{ status, info, error, details }`), not JSON:API resources.
 */
@Controller('health')
@Public()
@SkipThrottle()
@ApiPublic()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: Readiness,
  ) {}

  /** The process answers HTTP; no store is checked (a store outage is not cured by a restart). */
  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @Header('Content-Type', 'application/json; charset=utf-8')
  @LivenessDocs()
  live(@Res({ passthrough: true }) response: Response) {
    return this.answer(this.health.check([]), response);
  }

  /** Every store reachable and the read model close enough behind the event store to serve reads. */
  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ReadinessDocs()
  ready(@Res({ passthrough: true }) response: Response) {
    return this.answer(this.health.check([...this.readiness.storeChecks(), () => this.readiness.projection()]), response);
  }

  /** terminus throws 503 with its result: answered as it is, not as a JSON:API error. */
  private async answer(check: Promise<HealthCheckResult>, response: Response): Promise<HealthCheckResult> {
    try {
      return await check;
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      response.status(503);
      return error.getResponse() as HealthCheckResult;
    }
  }
}
