import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/api-key.guard';

/**
 * For probes and test harnesses: no key needed. `live` says the process answers HTTP; it checks no
 * store (a readiness check that does is a separate concern). The body has the shape of
 * @nestjs/terminus's, `{ "status": "ok" }`, as plain JSON: it is not a JSON:API resource.
 */
@Controller('health')
export class HealthController {
  @Get('live')
  @Public()
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  live() {
    return { status: 'ok' };
  }
}
