import { Clock, toTimestamp } from '../kernel/clock';
import { FreshRead } from '../kernel/fresh-read';
import { IdFactory } from '../kernel/ids';
import { Environment } from '../kernel/tenant';
import { ApiKeyRecord, generateApiKey, hashApiKey, parseApiKey, Scope, SCOPES } from './api-key';
import { ApiKeyStore } from './api-key-store.port';

export const BOOTSTRAP_ORGANIZATION = 'default';

/** Past this many cached keys the cache starts over: a bound on memory, whatever callers send. */
const MAX_CACHED_KEYS = 10_000;

/** Issuing, checking and revoking API keys. Used by the HTTP guard and the CLI alike. */
export class ApiKeys {
  /**
   * Records found by hash, valid for as long as the store's generation stays the same: a key added or
   * revoked anywhere (the CLI in another process, another instance) changes it, and the next request
   * sees the change. Unknown hashes are not cached, so made-up keys cannot fill it.
   */
  private readonly cache = new Map<string, ApiKeyRecord>();
  private cachedGeneration: number | undefined;
  /** Concurrent requests share one generation read, each still one that started after it arrived. */
  private readonly generation: FreshRead<number>;

  constructor(
    private readonly store: ApiKeyStore,
    private readonly ids: IdFactory,
    private readonly clock: Clock,
  ) {
    this.generation = new FreshRead(() => store.generation());
  }

  /** Returns the key in full: the only moment it exists outside the client's hands. */
  async create(organizationId: string, environment: Environment, scopes: Scope[]): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = generateApiKey(environment);
    const record = this.recordFor(key, organizationId, environment, scopes);
    await this.store.insert(record);
    return { key, record };
  }

  async authenticate(key: string | undefined): Promise<ApiKeyRecord | null> {
    if (!key || !parseApiKey(key)) return null;
    const hash = hashApiKey(key);
    const generation = await this.generation.get();
    if (generation !== this.cachedGeneration) {
      this.cache.clear();
      this.cachedGeneration = generation;
    }
    let record = this.cache.get(hash) ?? null;
    if (!record) {
      record = await this.store.findByHash(hash);
      if (record && generation === this.cachedGeneration) {
        if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
        this.cache.set(hash, record);
      }
    }
    return record && !record.revoked_at ? record : null;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.list();
  }

  revoke(id: string): Promise<boolean> {
    return this.store.revoke(id, toTimestamp(this.clock.now()));
  }

  /** ACCOUNTS_BOOTSTRAP_KEY: a key the operator chose, with every scope, for organization `default`. */
  async ensureBootstrapKey(key: string): Promise<void> {
    const parsed = parseApiKey(key);
    if (!parsed) throw new Error('ACCOUNTS_BOOTSTRAP_KEY must look like sk_<production|staging>_<32+ letters or digits>');
    if (await this.store.findByHash(hashApiKey(key))) return;
    await this.store.insert(this.recordFor(key, BOOTSTRAP_ORGANIZATION, parsed.environment, [...SCOPES]));
  }

  async anyExists(): Promise<boolean> {
    return (await this.store.count()) > 0;
  }

  /** On a first start with no key at all, one staging key so a new user can try the API at once. */
  async createFirstStartKey(): Promise<string | null> {
    if (await this.anyExists()) return null;
    return (await this.create(BOOTSTRAP_ORGANIZATION, 'staging', [...SCOPES])).key;
  }

  private recordFor(key: string, organizationId: string, environment: Environment, scopes: Scope[]): ApiKeyRecord {
    return {
      id: this.ids.apiKeyId(),
      tenant: { organization_id: organizationId, environment },
      scopes,
      hint: key.slice(0, `sk_${environment}_`.length + 4),
      hash: hashApiKey(key),
      created_at: toTimestamp(this.clock.now()),
      revoked_at: null,
    };
  }
}
