import { ApiKeyRecord, generateApiKey, hashApiKey } from '../../src/auth/api-key';
import { ApiKeyStore } from '../../src/auth/api-key-store.port';

/** Opens instances of one API-key store (same file or same database), empty at the start of each test. */
export interface ApiKeyStoreFixture {
  open(): Promise<ApiKeyStore>;
  dispose(): Promise<void>;
}

const record = (n: number, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: `key_01HQ${String(n).padStart(22, '0')}`,
  tenant: { organization_id: `org-${n}`, environment: n % 2 ? 'production' : 'staging' },
  scopes: n % 2 ? ['accounts:read'] : ['accounts:read', 'accounts:write', 'audit:read'],
  hint: `sk_staging_${n}`,
  hash: hashApiKey(generateApiKey('staging')),
  created_at: `2026-01-01T00:00:0${n % 10}Z`,
  revoked_at: null,
  ...overrides,
});

/** Every adapter of the ApiKeyStore port must pass this suite unchanged. */
export function apiKeyStoreContract(name: string, makeFixture: () => Promise<ApiKeyStoreFixture>) {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let fixture: ApiKeyStoreFixture;
    let store: ApiKeyStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(() => fixture.dispose());

    it('finds a key by its hash, exactly as stored', async () => {
      const key = record(1);
      await store.insert(key);
      expect(await store.findByHash(key.hash)).toEqual(key);
      expect(await store.findByHash(hashApiKey(generateApiKey('staging')))).toBeNull();
    });

    it('keeps the first record of a hash: a second insert of it changes nothing', async () => {
      const first = record(1);
      await store.insert(first);
      await store.insert(record(2, { hash: first.hash }));
      expect(await store.findByHash(first.hash)).toEqual(first);
      expect(await store.count()).toBe(1);
    });

    it('lets two instances add the same key at once (the bootstrap key), keeping one record', async () => {
      const other = await fixture.open();
      const key = record(1);
      await Promise.all([store.insert(key), other.insert({ ...key, id: record(2).id })]);
      expect(await store.count()).toBe(1);
      expect((await other.findByHash(key.hash))!.hash).toBe(key.hash);
    });

    it('lists every key, oldest first (ties by id)', async () => {
      const keys = [record(3), record(1), record(2), record(11)];
      for (const key of keys) await store.insert(key);
      const listed = await store.list();
      expect(listed.map((k) => k.id)).toEqual([1, 11, 2, 3].map((n) => record(n).id));
      expect(listed).toEqual(expect.arrayContaining(keys));
      expect(await store.count()).toBe(4);
    });

    it('revokes an unrevoked key once, for every instance', async () => {
      const key = record(1);
      await store.insert(key);
      const other = await fixture.open();
      expect(await store.revoke(key.id, '2026-02-01T00:00:00Z')).toBe(true);
      expect(await other.findByHash(key.hash)).toEqual({ ...key, revoked_at: '2026-02-01T00:00:00Z' });
      expect(await other.revoke(key.id, '2026-03-01T00:00:00Z')).toBe(false);
      expect((await store.findByHash(key.hash))!.revoked_at).toBe('2026-02-01T00:00:00Z');
      expect(await store.revoke('key_unknown', '2026-02-01T00:00:00Z')).toBe(false);
    });

    it('moves its generation on every key added or revoked, as every instance sees it, and only then', async () => {
      const other = await fixture.open();
      const key = record(1);
      const seen = [await other.generation()];
      await store.insert(key);
      seen.push(await other.generation());
      await store.findByHash(key.hash);
      await store.list();
      await store.revoke('key_unknown', '2026-02-01T00:00:00Z');
      expect(await other.generation()).toBe(seen[1]);
      await store.revoke(key.id, '2026-02-01T00:00:00Z');
      seen.push(await other.generation());
      await store.revoke(key.id, '2026-03-01T00:00:00Z');
      expect(await other.generation()).toBe(seen[2]);
      expect(new Set(seen).size).toBe(3);
      expect(await store.generation()).toBe(seen[2]);
    });

    it('keeps its keys for the next instance', async () => {
      const key = record(1);
      await store.insert(key);
      expect(await (await fixture.open()).findByHash(key.hash)).toEqual(key);
    });
  });
}
