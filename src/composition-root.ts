import { AccountErasure } from './accounts/application/account-erasure';
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
import { DeploymentKeys, loadDeploymentKeys } from './crypto/deployment-keys';
import { deriveSubkey, loadOrCreateMasterKeyFile, readMasterKeyFile, verifyMasterKey } from './crypto/master-key';
import { PersonalDataCipher } from './crypto/personal-data-cipher';
import { IdempotencyStore } from './idempotency/idempotency-store.port';
import { IDEMPOTENCY_DEFAULTS, IdempotencyOptions, IdempotentRequests } from './idempotency/idempotent-requests';
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
  /** Where the services log (the app's pino logger): fields first, then the message. */
  logger?: Record<'error' | 'warn' | 'info', (fields: object, message: string) => void>;
  reservations?: ReservationOptions;
  idempotency?: Partial<IdempotencyOptions>;
  /** Wraps a port's adapter before anything uses it: how a test puts a double in front of the real store. */
  decorate?: { eventStore?: (store: EventStore) => EventStore; idempotencyStore?: (store: IdempotencyStore) => IdempotencyStore };
}

export interface Services {
  access: StoreAccess;
  clock: Clock;
  ids: IdFactory;
  eventStore: EventStore;
  readModel: AccountReadModel;
  dataKeys: DataKeyStore;
  apiKeyStore: ApiKeyStore;
  idempotencyStore: IdempotencyStore;
  masterKey: Buffer;
  /** The audit key and the reservation-naming key: unchanged by master-key rotations. */
  deploymentKeys: DeploymentKeys;
  cipher: PersonalDataCipher;
  chain: EventChain;
  eventCodec: AccountEventCodec;
  rowCodec: AccountRowCodec;
  repository: AccountRepository;
  reservations: ExternalIdReservations;
  idempotency: IdempotentRequests;
  erasure: AccountErasure;
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
    const deploymentKeys = await loadDeploymentKeys(masterKey, storage.dataKeys, { store: access === 'read-write' });
    const cipher = new PersonalDataCipher(masterKey, storage.dataKeys);
    const chain = new EventChain(deploymentKeys.auditSeal);
    const eventCodec = new AccountEventCodec(cipher);
    const rowCodec = new AccountRowCodec(cipher);
    const repository = new AccountRepository(eventStore, eventCodec, chain, ids, clock);
    const reservations = new ExternalIdReservations(eventStore, repository, chain, deploymentKeys.externalIdNaming, ids, clock, options.reservations);
    const idempotencyStore = options.decorate?.idempotencyStore?.(storage.idempotencyStore) ?? storage.idempotencyStore;
    // Stored answers are sealed with their account's data key: shredding the key erases them too.
    const idempotency = new IdempotentRequests(
      idempotencyStore,
      { seal: (accountId, body) => cipher.seal(accountId, body, { createKey: false }), open: (accountId, sealed) => cipher.open(accountId, sealed) },
      clock,
      // From a deployment key, not the master key: a master-key rotation must not lose the records.
      deriveSubkey(deploymentKeys.externalIdNaming, 'idempotency-key-and-request-hmac'),
      { ...IDEMPOTENCY_DEFAULTS, ...options.idempotency },
    );
    const erasure = new AccountErasure(cipher, [(accountId) => idempotency.purge(accountId)]);
    const logger = options.logger;
    const projection = new AccountProjection(eventStore, storage.readModel, eventCodec, rowCodec, {
      ...config.projection,
      onRedacted: (accountId) => erasure.erase(accountId),
      onError: (error, during) =>
        logger?.error({ error: error instanceof Error ? error.name : 'unknown' }, during === 'batch' ? 'projection batch failed; retrying' : 'projection lease attempt failed; retrying'),
      // Which instance applies the projection, for operators (and the many-instances test).
      onLease: (change) => (change === 'lost' ? logger?.warn({ pid: process.pid }, 'projection lease lost') : logger?.info({ pid: process.pid }, `projection lease ${change}`)),
    });
    return {
      access,
      clock,
      ids,
      eventStore,
      readModel: storage.readModel,
      dataKeys: storage.dataKeys,
      apiKeyStore: storage.apiKeyStore,
      idempotencyStore,
      masterKey,
      deploymentKeys,
      cipher,
      chain,
      eventCodec,
      rowCodec,
      repository,
      reservations,
      idempotency,
      erasure,
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
