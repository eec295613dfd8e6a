// Runs the account projection over DATA_DIR (and the stores its environment names: test-storage.ts
// storageEnv) in its own process, so a test can kill -9 it mid-stream.
import { createServices } from '../../src/composition-root';
import { loadConfig } from '../../src/config/app-config';

async function main() {
  const config = loadConfig({ EVENT_STORE: process.env.EVENT_STORE ?? '', READ_MODEL: process.env.READ_MODEL ?? '', DATABASE_URL: process.env.DATABASE_URL ?? '', DATA_DIR: process.argv[2] });
  const services = await createServices({ ...config, projection: { batchSize: Number(process.argv[3] ?? 2), pollIntervalMs: 1000 } });
  process.stdout.write('started\n');
  await services.projection.catchUp();
  await services.close();
  process.stdout.write('done\n');
}

void main();
