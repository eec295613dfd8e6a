import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { loadConfig } from './config/app-config';
import { JsonLogger } from './http/json-logger';

async function main() {
  const config = loadConfig();
  const logger = new JsonLogger();
  const app = await createApp(config, { logger });
  await app.listen(config.port);
  // The port actually bound: PORT=0 asks the system for a free one.
  const { port } = app.getHttpServer().address() as AddressInfo;
  logger.event('info', 'listening', { port, data_dir: config.dataDir, event_store: config.eventStore, read_model: config.readModel });
}

main().catch((error: unknown) => {
  // Configuration problems carry a message written for the operator; anything else, its name.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
