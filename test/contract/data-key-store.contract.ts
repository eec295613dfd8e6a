import { randomBytes } from 'node:crypto';
import { DataKeyStore, WrappedDataKey } from '../../src/crypto/data-key-store.port';
import { dataKeyWrappingKey, tryUnwrapDataKey } from '../../src/crypto/data-key-wrapping';
import { DEPLOYMENT_KEY_PURPOSES, deriveAuditKey, loadDeploymentKeys, tryUnwrapDeploymentKey } from '../../src/crypto/deployment-keys';
import { deriveSubkey, masterKeyCheckValue, MasterKeyMismatch, verifyMasterKey } from '../../src/crypto/master-key';
import { MasterKeyRotationError, rotateMasterKey } from '../../src/crypto/master-key-rotation';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';

/** Opens instances of one data-key store (same file or same database), empty at the start of each test. */
export interface DataKeyStoreFixture {
  open(): Promise<DataKeyStore>;
  dispose(): Promise<void>;
}

const wrapped = () => randomBytes(60);
const accountId = (n: number) => `acc_01HQ${String(n).padStart(22, '0')}`;

/** Every adapter of the DataKeyStore port must pass this suite unchanged. */
export function dataKeyStoreContract(name: string, makeFixture: () => Promise<DataKeyStoreFixture>) {
  describe(`DataKeyStore contract: ${name}`, () => {
    let fixture: DataKeyStoreFixture;
    let store: DataKeyStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open();
    });
    afterEach(() => fixture.dispose());

    it('stores an account\'s key once: the first one stored is kept and returned', async () => {
      const [first, second] = [wrapped(), wrapped()];
      expect(await store.get(accountId(1))).toBeNull();
      expect(await store.putIfAbsent(accountId(1), first)).toEqual(first);
      expect(await store.putIfAbsent(accountId(1), second)).toEqual(first);
      expect(await store.get(accountId(1))).toEqual(first);
      expect(await store.count()).toBe(1);
    });

    it('gives two instances racing to create an account\'s key the same key', async () => {
      const other = await fixture.open();
      for (let n = 0; n < 10; n++) {
        const [a, b] = await Promise.all([store.putIfAbsent(accountId(n), wrapped()), other.putIfAbsent(accountId(n), wrapped())]);
        expect(a).toEqual(b);
        expect(await other.get(accountId(n))).toEqual(a);
      }
    });

    it('answers each of many calls made at once with its own account\'s key (an adapter may group them)', async () => {
      const keys = Array.from({ length: 40 }, (_, n) => ({ id: accountId(100 + (n % 30)), key: wrapped() }));
      // Some of the accounts have a key already: the one stored before is what their creates answer.
      const before = new Map([103, 117, 121].map((n) => [accountId(n), wrapped()]));
      for (const [id, key] of before) await store.putIfAbsent(id, key);
      // 40 creates for 30 accounts at once, with reads of those accounts and of ones without a key mixed in.
      const [created, read] = await Promise.all([
        Promise.all(keys.map(({ id, key }) => store.putIfAbsent(id, key))),
        Promise.all(keys.map((_, n) => store.get(accountId(n % 2 === 0 ? 100 + (n % 30) : 500 + n)))),
      ]);
      const kept = new Map<string, Buffer>(before);
      keys.forEach(({ id }, n) => {
        // The first key stored for an account is what every create of it answers, and what it holds.
        if (!kept.has(id)) kept.set(id, created[n]);
        expect(created[n]).toEqual(kept.get(id));
      });
      for (const [id, key] of kept) expect(await store.get(id)).toEqual(key);
      expect(keys.filter(({ id, key }) => kept.get(id)!.equals(key)).length).toBe(27);
      read.forEach((key, n) => (n % 2 === 0 ? key === null || expect(key).toEqual(kept.get(accountId(100 + (n % 30)))) : expect(key).toBeNull()));
      expect(await store.count()).toBe(30);
    });

    it('destroys a key for every instance and leaves the other keys; destroying again is harmless', async () => {
      const other = await fixture.open();
      const keep = wrapped();
      await store.putIfAbsent(accountId(1), wrapped());
      await store.putIfAbsent(accountId(2), keep);
      expect(await other.get(accountId(1))).not.toBeNull();
      await store.destroy(accountId(1));
      expect(await other.get(accountId(1))).toBeNull();
      expect(await store.get(accountId(1))).toBeNull();
      await other.destroy(accountId(1));
      await store.destroy(accountId(99));
      expect(await other.get(accountId(2))).toEqual(keep);
      expect(await store.count()).toBe(1);
    });

    it('keeps its keys and check value for the next instance', async () => {
      const key = wrapped();
      await store.putIfAbsent(accountId(1), key);
      await store.keepMasterKeyCheck('check-1');
      const next = await fixture.open();
      expect(await next.get(accountId(1))).toEqual(key);
      expect(await next.masterKeyCheck()).toBe('check-1');
    });

    it('keeps the first master-key check value, and replaces it only by compare-and-set', async () => {
      expect(await store.masterKeyCheck()).toBeNull();
      expect(await store.replaceMasterKeyCheck('nothing', 'x')).toBe(false);
      expect(await store.keepMasterKeyCheck('first')).toBe('first');
      expect(await store.keepMasterKeyCheck('second')).toBe('first');
      expect(await store.replaceMasterKeyCheck(null, 'other')).toBe(false);
      expect(await store.replaceMasterKeyCheck('second', 'third')).toBe(false);
      expect(await store.replaceMasterKeyCheck('first', 'third')).toBe(true);
      expect(await store.masterKeyCheck()).toBe('third');
    });

    it('sets the first check value by compare-and-set from none', async () => {
      expect(await store.replaceMasterKeyCheck(null, 'first')).toBe(true);
      expect(await store.masterKeyCheck()).toBe('first');
    });

    it('lists wrapped keys in pages, in account-id byte order', async () => {
      const ids = ['acc_b', 'acc_A', 'acc_a', 'acc_B', 'acc_-', 'acc__', 'acc_0'];
      const keys = new Map(ids.map((id) => [id, wrapped()]));
      for (const [id, key] of keys) await store.putIfAbsent(id, key);
      const listed: WrappedDataKey[] = [];
      for (let page = await store.listWrapped('', 3); page.length; page = await store.listWrapped(page.at(-1)!.accountId, 3)) {
        expect(page.length).toBeLessThanOrEqual(3);
        listed.push(...page);
      }
      expect(listed.map((k) => k.accountId)).toEqual([...ids].sort());
      for (const k of listed) expect(k.wrappedKey).toEqual(keys.get(k.accountId));
    });

    it('re-wraps keys only from the value each still has', async () => {
      const [current, replacement, other] = [wrapped(), wrapped(), wrapped()];
      await store.putIfAbsent(accountId(1), current);
      await store.putIfAbsent(accountId(2), other);
      expect(await store.rewrap([{ accountId: accountId(1), current: wrapped(), replacement }])).toEqual([]);
      expect(await store.get(accountId(1))).toEqual(current);
      expect(await store.rewrap([])).toEqual([]);
      // One batch: a stale value, a current one, an account without a key.
      const moved = await store.rewrap([
        { accountId: accountId(2), current: wrapped(), replacement },
        { accountId: accountId(1), current, replacement },
        { accountId: accountId(3), current, replacement },
      ]);
      expect(moved).toEqual([accountId(1)]);
      expect(await store.get(accountId(1))).toEqual(replacement);
      expect(await store.get(accountId(2))).toEqual(other);
      expect(await store.get(accountId(3))).toBeNull();
      await store.destroy(accountId(1));
      expect(await store.rewrap([{ accountId: accountId(1), current: replacement, replacement: current }])).toEqual([]);
      expect(await store.get(accountId(1))).toBeNull();
    });

    it('keeps the first deployment key of each purpose, and replaces it only by compare-and-set', async () => {
      const [first, second, third] = [wrapped(), wrapped(), wrapped()];
      expect(await store.deploymentKey('audit-seal')).toBeNull();
      expect(await store.keepDeploymentKey('audit-seal', first)).toEqual(first);
      expect(await store.keepDeploymentKey('audit-seal', second)).toEqual(first);
      expect(await store.deploymentKey('external-id-naming')).toBeNull();
      expect(await store.keepDeploymentKey('external-id-naming', second)).toEqual(second);
      expect(await store.replaceDeploymentKey('audit-seal', second, third)).toBe(false);
      expect(await store.replaceDeploymentKey('audit-seal', first, third)).toBe(true);
      expect(await store.replaceDeploymentKey('no-such-purpose', first, third)).toBe(false);
      const next = await fixture.open();
      expect(await next.deploymentKey('audit-seal')).toEqual(third);
      expect(await next.deploymentKey('external-id-naming')).toEqual(second);
      // They are not data keys.
      expect(await store.count()).toBe(0);
    });

    it('gives instances storing the deployment keys at once the same keys, those the first master key derives', async () => {
      const master = randomBytes(32);
      const other = await fixture.open();
      const [a, b] = await Promise.all([loadDeploymentKeys(master, store, { store: true }), loadDeploymentKeys(master, other, { store: true })]);
      expect(a).toEqual(b);
      expect(a.auditSeal).toEqual(deriveAuditKey(master));
      expect(a.externalIdNaming).toEqual(deriveSubkey(master, 'external-id-reservation'));
      await expect(loadDeploymentKeys(randomBytes(32), store, { store: true })).rejects.toBeInstanceOf(MasterKeyMismatch);
    });

    describe('master-key rotation', () => {
      const oldMaster = randomBytes(32);
      const newMaster = randomBytes(32);
      const opensWith = (master: Buffer, key: WrappedDataKey) => tryUnwrapDataKey(dataKeyWrappingKey(master), key.accountId, key.wrappedKey) !== null;
      const allKeys = async () => {
        const keys: WrappedDataKey[] = [];
        for (let page = await store.listWrapped('', 100); page.length; page = await store.listWrapped(page.at(-1)!.accountId, 100)) keys.push(...page);
        return keys;
      };

      /** Accounts with sealed data under the old master key, as the service leaves them. */
      async function accounts(n: number) {
        await verifyMasterKey(oldMaster, store);
        const cipher = new PersonalDataCipher(oldMaster, store);
        const sealed = new Map<string, string>();
        for (let i = 0; i < n; i++) sealed.set(accountId(i), (await cipher.seal(accountId(i), { email: `person${i}@example.com` }, { createKey: true }))!);
        return { cipher, sealed };
      }

      it('re-wraps every key: afterwards the new master key opens all of them and the sealed data, the old one nothing', async () => {
        const { cipher, sealed } = await accounts(12);
        await cipher.shred(accountId(4));
        const report = await rotateMasterKey(store, oldMaster, newMaster, { batchSize: 5 });
        expect(report).toEqual({ examined: 11, rewrapped: 11, alreadyRewrapped: 0, destroyedMeanwhile: 0 });

        const keys = await allKeys();
        expect(keys).toHaveLength(11);
        expect(keys.filter((k) => opensWith(oldMaster, k))).toEqual([]);
        expect(keys.every((k) => opensWith(newMaster, k))).toBe(true);
        await verifyMasterKey(newMaster, store);
        await expect(verifyMasterKey(oldMaster, store)).rejects.toBeInstanceOf(MasterKeyMismatch);
        // The deployment's keys are re-wrapped, not changed: the new master key opens what the old one derived.
        expect(await loadDeploymentKeys(newMaster, store, { store: true })).toEqual({
          auditSeal: deriveAuditKey(oldMaster),
          externalIdNaming: deriveSubkey(oldMaster, 'external-id-reservation'),
        });
        for (const purpose of DEPLOYMENT_KEY_PURPOSES) expect(tryUnwrapDeploymentKey(oldMaster, purpose, (await store.deploymentKey(purpose))!)).toBeNull();
        const after = new PersonalDataCipher(newMaster, store);
        for (const [id, value] of sealed) expect(await after.open(id, value)).toEqual(id === accountId(4) ? undefined : { email: `person${Number(id.slice(-3))}@example.com` });
        expect(await store.get(accountId(4))).toBeNull();
      });

      it('resumes an interrupted rotation run again with the same keys; in between the service starts with neither key', async () => {
        await accounts(7);
        let pages = 0;
        const interrupted = rotateMasterKey(store, oldMaster, newMaster, {
          batchSize: 3,
          onProgress: () => {
            if (++pages === 1) throw new Error('killed');
          },
        });
        await expect(interrupted).rejects.toThrow('killed');
        const halfway = await allKeys();
        expect(halfway.filter((k) => opensWith(newMaster, k))).toHaveLength(3);
        expect(halfway.filter((k) => opensWith(oldMaster, k))).toHaveLength(4);
        await expect(verifyMasterKey(oldMaster, store)).rejects.toThrow(/rotation is unfinished/);
        await expect(verifyMasterKey(newMaster, store)).rejects.toThrow(/rotation is unfinished/);
        await expect(rotateMasterKey(store, oldMaster, randomBytes(32))).rejects.toThrow(/Another rotation/);

        const resumed = await rotateMasterKey(store, oldMaster, newMaster, { batchSize: 3 });
        expect(resumed).toEqual({ examined: 7, rewrapped: 4, alreadyRewrapped: 3, destroyedMeanwhile: 0 });
        expect((await allKeys()).every((k) => opensWith(newMaster, k))).toBe(true);
        expect(await store.masterKeyCheck()).toBe(masterKeyCheckValue(newMaster));
        expect((await loadDeploymentKeys(newMaster, store, { store: false })).auditSeal).toEqual(deriveAuditKey(oldMaster));
        // Once finished, running it again finds nothing to do.
        expect(await rotateMasterKey(store, oldMaster, newMaster)).toEqual({ examined: 7, rewrapped: 0, alreadyRewrapped: 7, destroyedMeanwhile: 0 });
      });

      it('leaves a key destroyed while the rotation runs destroyed', async () => {
        await accounts(4);
        // The redaction of account 2 lands between the rotation's reading of the page and its re-wrap.
        const racing = Object.create(store, {
          listWrapped: {
            value: async (after: string, limit: number) => {
              const page = await store.listWrapped(after, limit);
              await store.destroy(accountId(2));
              return page;
            },
          },
        }) as DataKeyStore;
        const report = await rotateMasterKey(racing, oldMaster, newMaster);
        expect(report).toEqual({ examined: 4, rewrapped: 3, alreadyRewrapped: 0, destroyedMeanwhile: 1 });
        expect(await store.get(accountId(2))).toBeNull();
        expect(await store.count()).toBe(3);
      });

      it('refuses to start from a master key that is not the current one, changing nothing', async () => {
        await accounts(2);
        const before = await allKeys();
        await expect(rotateMasterKey(store, randomBytes(32), newMaster)).rejects.toBeInstanceOf(MasterKeyRotationError);
        await expect(rotateMasterKey(store, oldMaster, oldMaster)).rejects.toBeInstanceOf(MasterKeyRotationError);
        expect(await allKeys()).toEqual(before);
        await verifyMasterKey(oldMaster, store);
      });

      it('stops before switching at a key that opens with neither master key', async () => {
        await accounts(3);
        await store.putIfAbsent(accountId(1) + 'x', wrapped());
        await expect(rotateMasterKey(store, oldMaster, newMaster)).rejects.toThrow(/opens with neither master key/);
        await expect(verifyMasterKey(newMaster, store)).rejects.toThrow(/rotation is unfinished/);
      });
    });
  });
}
