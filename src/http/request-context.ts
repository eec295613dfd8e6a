import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdFactory } from '../kernel/ids';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives a request its id (the client's X-Request-Id when sane, else a new one) and correlation id,
 * and echoes the id in X-Request-Id. The request logging calls it once per request, so the
 * id in the request's log lines is the one the client sees and the events record.
 */
export function assignRequestIds(ids: IdFactory) {
  return (request: IncomingMessage, response: ServerResponse): string => {
    const fromClient = header(request, 'x-request-id');
    const requestId = fromClient && CLIENT_ID.test(fromClient) ? fromClient : ids.requestId();
    const correlation = header(request, 'x-correlation-id');
    Object.assign(request, { requestId, correlationId: correlation && CLIENT_ID.test(correlation) ? correlation : requestId });
    response.setHeader('X-Request-Id', requestId);
    return requestId;
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
