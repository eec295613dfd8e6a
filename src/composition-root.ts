import { AccountEventCodec } from './accounts/application/account-event-codec';
import { AccountRepository } from './accounts/application/account-repository';
import { EventChain } from './accounts/application/event-chain';
import { ExternalIdReservations, ReservationOptions } from './accounts/application/external-id-reservations';
import { AccountHistory } from './accounts/audit/account-history';
import { StoreVerifier } from './accounts/audit/store-verifier';
import { AccountProjection } from './accounts/projection/account-projection';
import { AccountReadModel } from './accounts/projection/account-read-model.port';
import { AccountRowCodec } from './accounts/projection/account-row-codec';
import { ProjectionLag } from './accounts/projection/projection-lag';
import { ReadModelRebuild } from './accounts/projection/read-model-rebuild';
import { ApiKeyStore } from './auth/api-key-store.port';
import { ApiKeys } from './auth/api-keys';
import { AppConfig } from './config/app-config';
import { DataKeyStore } from './crypto/data-key-store.port';
import { loadOrCreateMasterKeyFile, readMasterKeyFile, verifyMasterKey } from './crypto/master-key';
import { PersonalDataCipher } from './crypto/personal-data-cipher';
import { Clock, SystemClock } from './kernel/clock';
import { IdFactory, RandomIdFactory } from './kernel/ids';
import { EventStore, START } from './storage/event-store.port';
import { openStorage, Storage } from './storage/open-storage';
import { StoreAccess } from './storage/store-access';

// The one composition root: the service's Nest modules, the CLI and the tests all get their event
// store, cipher, projection, read model and everything built on them from here, wired one way.

/** What the services need of the configuration. */
export type ServicesConfig = Pick<AppConfig, 'dataDir' | 'eventStore' | 'readModel' | 'databaseUrl' | 'eventStoreConnectionString' | 'masterKey' | 'projection'>;

export interface ServicesOptions {
  /** read-write (the default) creates missing stores and a first master key; read-only creates and writes nothing. */
  access?: StoreAccess;
  clock?: Clock;
  ids?: IdFactory;
  /** Where the projection reports failed batches (pino's signature: fields, then message). */
  logger?: { error(fields: object, message: string): void };
  reservations?: ReservationOptions;
  /** Wraps a port's adapter before anything uses it: how a test puts a double in front of the real store. */
  decorate?: { eventStore?: (store: EventStore) => EventStore };
}

export interface Services {
  access: StoreAccess;
  clock: Clock;
  ids: IdFactory;
  eventStore: EventStore;
  readModel: AccountReadModel;
  dataKeys: DataKeyStore;
  apiKeyStore: ApiKeyStore;
  masterKey: Buffer;
  cipher: PersonalDataCipher;
  chain: EventChain;
  eventCodec: AccountEventCodec;
  rowCodec: AccountRowCodec;
  repository: AccountRepository;
  reservations: ExternalIdReservations;
  projection: AccountProjection;
  projectionLag: ProjectionLag;
  apiKeys: ApiKeys;
  history: AccountHistory;
  verifier: StoreVerifier;
  rebuild: ReadModelRebuild;
  /** Closes every store; the projection must be stopped first (the service stops it on shutdown). */
  close(): Promise<void>;
}

export async function createServices(config: ServicesConfig, options: ServicesOptions = {}): Promise<Services> {
  const access = options.access ?? 'read-write';
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? new RandomIdFactory();
  const storage = await openStorage(config, access);
  try {
    const eventStore = options.decorate?.eventStore?.(storage.eventStore) ?? storage.eventStore;
    const masterKey = await resolveMasterKey(config, storage, access);
    const cipher = new PersonalDataCipher(masterKey, storage.dataKeys);
    const chain = new EventChain(masterKey);
    const eventCodec = new AccountEventCodec(cipher);
    const rowCodec = new AccountRowCodec(cipher);
    const repository = new AccountRepository(eventStore, eventCodec, chain, ids, clock);
    const reservations = new ExternalIdReservations(eventStore, repository, chain, masterKey, ids, clock, options.reservations);
    const logger = options.logger;
    const projection = new AccountProjection(eventStore, storage.readModel, eventCodec, rowCodec, {
      ...config.projection,
      onRedacted: (accountId) => cipher.shred(accountId),
      onError: (error) => logger?.error({ error: error instanceof Error ? error.name : 'unknown' }, 'projection batch failed; retrying'),
    });
    return {
      access,
      clock,
      ids,
      eventStore,
      readModel: storage.readModel,
      dataKeys: storage.dataKeys,
      apiKeyStore: storage.apiKeyStore,
      masterKey,
      cipher,
      chain,
      eventCodec,
      rowCodec,
      repository,
      reservations,
      projection,
      projectionLag: new ProjectionLag(eventStore, storage.readModel, projection),
      apiKeys: new ApiKeys(storage.apiKeyStore, ids, clock),
      history: new AccountHistory(eventStore, eventCodec),
      verifier: new StoreVerifier(eventStore, storage.readModel, chain, eventCodec, rowCodec),
      rebuild: new ReadModelRebuild(eventStore, storage.readModel, projection),
      close: async () => {
        await eventStore.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * API keys alone, for the keys commands: they need no master key, so an operator without it (it
 * stays with the service in production) can still manage keys, and no key file is ever made here.
 */
export async function createKeyAdministration(config: ServicesConfig, options: Pick<ServicesOptions, 'access' | 'clock' | 'ids'> = {}) {
  const storage = await openStorage(config, options.access ?? 'read-write', ['apiKeyStore']);
  return {
    apiKeys: new ApiKeys(storage.apiKeyStore, options.ids ?? new RandomIdFactory(), options.clock ?? new SystemClock()),
    close: () => storage.close(),
  };
}

/**
 * ACCOUNTS_MASTER_KEY, else DATA_DIR/master.key, checked against the data. Read-write generates the
 * file on a first start (never for a DATA_DIR that holds accounts); read-only never does.
 */
async function resolveMasterKey(config: ServicesConfig, storage: Storage, access: StoreAccess): Promise<Buffer> {
  const dataExists = (await storage.eventStore.headPosition()) !== START;
  const masterKey =
    config.masterKey ?? (access === 'read-only' ? readMasterKeyFile(config.dataDir) : loadOrCreateMasterKeyFile(config.dataDir, { dataExists }));
  await verifyMasterKey(masterKey, storage.dataKeys, { store: access === 'read-write' });
  return masterKey;
}
