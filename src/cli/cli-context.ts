import { AppConfig, InvalidConfiguration, loadConfig } from '../config/app-config';
import { MasterKeyMismatch } from '../crypto/master-key';
import { describeEndpoint } from '../storage/eventstoredb/eventstoredb-mapping';
import { describeDatabaseUrl } from '../storage/postgres/postgres-pool';
import { StoreAccess, StoreMissing } from '../storage/store-access';
import { CliIo, CliUsageError } from './cli-io';

/** What every command gets: the service's own configuration (from the same variables) and where to write. */
export class CliContext {
  exitCode = 0;

  constructor(
    readonly io: CliIo,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** DATA_DIR, ACCOUNTS_MASTER_KEY, EVENT_STORE, READ_MODEL: read exactly as the service reads them. */
  config(): AppConfig {
    try {
      return loadConfig(this.env);
    } catch (error) {
      if (error instanceof InvalidConfiguration) throw new CliUsageError(error.message);
      throw error;
    }
  }

  /**
   * Says which data a command works on, before it opens it; on stderr, so that stdout stays the
   * command's output. DATA_DIR always (SQLite files, master.key), and the servers the adapters use,
   * never with a password.
   */
  opening(config: AppConfig, access: StoreAccess, where: string = describeStores(config)): void {
    this.io.err(`${where} (${access})`);
  }

  /** Runs `open`, turning "no store there" and "wrong master key" into a clear usage error. */
  async open<T>(open: () => T | Promise<T>): Promise<T> {
    try {
      return await open();
    } catch (error) {
      if (error instanceof StoreMissing || error instanceof MasterKeyMismatch) throw new CliUsageError(error.message);
      throw error;
    }
  }
}

export const describeDatabase = (config: AppConfig) => `DATABASE_URL=${describeDatabaseUrl(config.databaseUrl ?? '')}`;

function describeStores(config: AppConfig): string {
  const stores = [`DATA_DIR=${config.dataDir}`];
  if (config.eventStore === 'postgres' || config.readModel === 'postgres') stores.push(describeDatabase(config));
  if (config.eventStore === 'eventstoredb') stores.push(`EVENTSTORE_CONNECTION_STRING=${describeEndpoint(config.eventStoreConnectionString ?? '')}`);
  return stores.join(', ');
}
