import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import type pino from 'pino';
import { AppLogger } from '../logging/logger';
import { toJsonApiError } from './to-jsonapi-error';
import { answeredEarly, writeJsonApiError } from './write-jsonapi-error';

@Catch()
export class JsonApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(exception: unknown, host: ArgumentsHost) {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    // The late failure (or the late answer, which Express refuses) of a request already answered 503 request_timeout.
    if (answeredEarly(response)) return;
    const error = toJsonApiError(exception);
    if (error.status >= 500) {
      // The name and stack say where; the message could echo input, so it stays out of the log.
      const e = exception instanceof Error ? exception : new Error('non-error thrown');
      // The request's own logger (request.log, src/logging/request-logging.ts), so the line carries its request_id even when a middleware failed.
      const log = http.getRequest<{ log?: pino.Logger }>().log ?? this.logger.root;
      log.error({ error: e.name, stack: e.stack?.split('\n').slice(1, 8).join('\n') }, 'unhandled error');
    }
    if (response.headersSent) return;
    writeJsonApiError(response, error);
  }
}
