import { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import pino from 'pino';
import { LogLevel } from '../config/app-config';

// Logs are JSON lines written by pino: `{"level":"info","time":"…","message":"…",…}`. What reaches
// them is chosen field by field where a line is written: ids, codes, counts, durations, route
// patterns. Never a request body, a header, a key or an attribute value (personal data must not
// reach a log). The redaction below is a second net under that rule, not the rule itself.

/** Where the lines go: stdout by default; tests and the testing entry point pass their own. */
export type LogSink = (line: string) => void;

/** Field names that must never be written whatever a caller passes (pino's redact paths). */
const REDACTED = [
  'body',
  'headers',
  'attributes',
  'key',
  'apiKey',
  'api_key',
  '*.body',
  '*.headers',
  '*.attributes',
  '*.key',
  '*.apiKey',
  '*.api_key',
  'req.url',
  'req.query',
];

export function createRootLogger(level: LogLevel, sink?: LogSink): pino.Logger {
  const options: pino.LoggerOptions = {
    level,
    messageKey: 'message',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED, censor: '[redacted]' },
  };
  // Written synchronously: a line logged just before the process ends (the last steps of a
  // shutdown, which Nest ends by re-raising the signal) is not lost in a buffer.
  return pino(options, sink ? { write: (line: string) => sink(line.trimEnd()) } : pino.destination({ fd: 1, sync: true }));
}

/**
 * The app's logger (nestjs-pino's PinoLogger): inside a request, the request's own logger, whose
 * lines carry its request_id; outside, this app's root logger. nestjs-pino keeps one logger for
 * out-of-request lines per process; this keeps it per app, so two apps in one process (a test
 * suite) never write into each other's logs.
 */
export class AppLogger extends PinoLogger {
  constructor(readonly root: pino.Logger) {
    super({ pinoHttp: { logger: root } });
  }

  override get logger(): pino.Logger {
    return storage.getStore()?.logger ?? this.root;
  }
}

/**
 * Nest's own messages through nestjs-pino's Logger. Nest logs its start-up (every module loaded,
 * every route mapped) at `log`, which would be dozens of info lines per start: they are debug here.
 */
export class NestLogs extends NestPinoLogger implements LoggerService {
  constructor(logger: AppLogger) {
    super(logger, {});
  }

  override log(message: unknown, ...optionalParams: unknown[]) {
    super.debug(message, ...optionalParams);
  }
}
