import { LoggerService } from '@nestjs/common';

/**
 * One JSON object per line. Callers pass only safe fields: ids, codes, counts, durations. Never a
 * key, a secret, a request body or an attribute value (personal data must not reach a log).
 */
export class JsonLogger implements LoggerService {
  constructor(private readonly sink: (line: string) => void = (line) => process.stdout.write(line + '\n')) {}

  /** Only Nest's start-up chatter (modules loaded, routes mapped) comes here; the app logs through event(). */
  log() {}
  error(message: unknown, trace?: string, context?: string) {
    this.write('error', message, context, trace);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  debug() {}
  verbose() {}

  event(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>) {
    this.sink(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
  }

  private write(level: string, message: unknown, context?: string, trace?: string) {
    const text = message instanceof Error ? `${message.name}: ${message.message}` : String(message);
    this.sink(JSON.stringify({ time: new Date().toISOString(), level, context, message: text, ...(trace ? { trace } : {}) }));
  }
}
