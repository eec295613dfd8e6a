import { AppConfig } from '../config/app-config';
import { AppLogger } from '../logging/logger';
import { ApiKeys } from './api-keys';

/**
 * A way in for a new user, offered once the server listens: a start that fails before that (the
 * port is taken, say) must not make a key that nobody saw and nobody can see again. Outside
 * production, a first start without any key creates one staging key with every scope and prints
 * it, once; in production, with no key at all, one log line says how to create one.
 */
export async function offerFirstKey(apiKeys: ApiKeys, config: AppConfig, logger: AppLogger, print: (text: string) => void): Promise<void> {
  if (config.bootstrapKey) return;
  if (config.production) {
    if (!(await apiKeys.anyExists())) {
      logger.warn(
        { data_dir: config.dataDir },
        `No API key exists yet: create one with "node dist/cli.js keys create --org <organization> --env production" (in a checkout: npm run cli -- keys create ...), with this server's DATA_DIR`,
      );
    }
    return;
  }
  const key = await apiKeys.createFirstStartKey();
  // Printed to the terminal, not logged: the only time this key is ever shown.
  if (key) print(`\nFirst start: created a staging API key with every scope. It is shown only now:\n\n  ${key}\n\n`);
}
