import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { ApiKeys } from './auth/api-keys';
import { offerFirstKey } from './auth/first-key';
import { loadConfig } from './config/app-config';
import { AppLogger } from './logging/logger';

async function main() {
  const config = loadConfig();
  const app = await createApp(config);
  const logger = app.get(AppLogger);
  await app.listen(config.port);
  // The port actually bound: PORT=0 asks the system for a free one.
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.info({ port, data_dir: config.dataDir, event_store: config.eventStore, read_model: config.readModel }, 'listening');
  await offerFirstKey(app.get(ApiKeys), config, logger, (text) => process.stdout.write(text));
  // Nest closes the app on these (enableShutdownHooks): drain, projection, stores. Should any step
  // hang, the process still ends, SHUTDOWN_TIMEOUT_MS plus a margin later.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        logger.error({ signal }, 'shutdown did not finish in time: exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs + 5000).unref();
    });
  }
}

/** Configuration problems carry a message written for the operator; a taken port gets one; anything else, its message. */
function startFailure(error: unknown): string {
  const { code, port } = error as { code?: unknown; port?: unknown };
  if (code === 'EADDRINUSE') return `Port ${String(port)} is in use: stop what holds it, or set PORT to another port (PORT=0 picks a free one)`;
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  // One line, whatever the cause's message holds.
  process.stderr.write(`${startFailure(error).replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
});
