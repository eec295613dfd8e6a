import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';

// The configuration is read and checked in one place, and .env.example documents all of it.

const ROOT = join(__dirname, '..', '..');

describe('loadConfig', () => {
  it('has defaults for the operational settings', () => {
    expect(loadConfig({})).toMatchObject({
      logLevel: 'info',
      logRequests: true,
      metricsPort: null,
      rateLimitPerMinute: 6000,
      requestTimeoutMs: 30_000,
      shutdownTimeoutMs: 10_000,
      readyMaxLagMs: 10_000,
    });
  });

  it('reads them', () => {
    expect(
      loadConfig({ LOG_LEVEL: 'debug', LOG_REQUESTS: 'false', METRICS_PORT: '9464', RATE_LIMIT_PER_MINUTE: '0', REQUEST_TIMEOUT_MS: '500', SHUTDOWN_TIMEOUT_MS: '0', READY_MAX_LAG_MS: '250' }),
    ).toMatchObject({ logLevel: 'debug', logRequests: false, metricsPort: 9464, rateLimitPerMinute: 0, requestTimeoutMs: 500, shutdownTimeoutMs: 0, readyMaxLagMs: 250 });
  });

  it('names every bad value in one message', () => {
    expect(() =>
      loadConfig({ LOG_LEVEL: 'chatty', METRICS_PORT: '70000', RATE_LIMIT_PER_MINUTE: '-1', REQUEST_TIMEOUT_MS: '0', SHUTDOWN_TIMEOUT_MS: '1.5', READY_MAX_LAG_MS: 'soon' }),
    ).toThrow(
      'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "chatty"; ' +
        'METRICS_PORT must be a whole number from 0 to 65535, got "70000"; ' +
        'RATE_LIMIT_PER_MINUTE must be a whole number from 0 to 2147483647, got "-1"; ' +
        'REQUEST_TIMEOUT_MS must be a whole number from 1 to 2147483647, got "0"; ' +
        'SHUTDOWN_TIMEOUT_MS must be a whole number from 0 to 2147483647, got "1.5"; ' +
        'READY_MAX_LAG_MS must be a whole number from 0 to 2147483647, got "soon"',
    );
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow('METRICS_PORT must differ from PORT');
  });
});

describe('.env.example', () => {
  it('documents every variable the service reads, and no other', () => {
    const source = readFileSync(join(ROOT, 'src', 'config', 'app-config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]*)|whole\(env, '([A-Z][A-Z0-9_]*)'/g)].map((match) => match[1] ?? match[2]));
    const documented = [...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(read.size).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual([...read].sort());
  });

  it('is a valid configuration as it is', () => {
    const env = Object.fromEntries([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1], match[2]]));
    expect(loadConfig(env)).toMatchObject({ port: 3000, eventStore: 'sqlite', readModel: 'sqlite', metricsPort: null, production: true });
  });
});
