import { randomBytes } from 'node:crypto';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { loadConfig } from '../../src/config/app-config';
import { openStorage } from '../../src/storage/open-storage';
import { removeDir, tempDataDir } from '../support/app-harness';

describe('PersonalDataCipher across processes', () => {
  it('refuses to seal with a key another process has shredded, even while this one has it cached', async () => {
    const dir = tempDataDir();
    const masterKey = randomBytes(32);
    // Two "processes": separate connections to the same files, separate key caches.
    const open = async () => (await openStorage(loadConfig({ DATA_DIR: dir }), 'read-write', ['dataKeys'])).dataKeys;
    const [a, b] = [await open(), await open()];
    const [cipherA, cipherB] = [new PersonalDataCipher(masterKey, a), new PersonalDataCipher(masterKey, b)];
    try {
      const sealed = (await cipherA.seal('acc_1', { email: 'a@example.com' }, { createKey: true }))!;
      expect(await cipherB.open('acc_1', sealed)).toEqual({ email: 'a@example.com' });
      await cipherB.shred('acc_1');

      expect(await cipherA.seal('acc_1', { email: 'b@example.com' }, { createKey: false })).toBeNull();
      expect(await cipherA.open('acc_1', sealed)).toBeUndefined();
      expect(await cipherB.open('acc_1', sealed)).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
      removeDir(dir);
    }
  });

  it('opens of one account that miss the key cache together read and unwrap its key once', async () => {
    const dir = tempDataDir();
    const masterKey = randomBytes(32);
    const open = async () => (await openStorage(loadConfig({ DATA_DIR: dir }), 'read-write', ['dataKeys'])).dataKeys;
    const [writer, reader] = [await open(), await open()];
    try {
      const sealed = await Promise.all([1, 2, 3].map(async (n) => (await new PersonalDataCipher(masterKey, writer).seal('acc_1', { n }, { createKey: true }))!));
      const other = (await new PersonalDataCipher(masterKey, writer).seal('acc_2', { n: 4 }, { createKey: true }))!;
      const gets = jest.spyOn(reader, 'get');
      const cipher = new PersonalDataCipher(masterKey, reader);

      const opened = await Promise.all([...sealed.map((value) => cipher.open('acc_1', value)), cipher.open('acc_2', other)]);

      expect(opened).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
      expect(gets.mock.calls.map(([accountId]) => accountId).sort()).toEqual(['acc_1', 'acc_2']);
      // Shredded here while opens wait: the shared read finds the key gone for every one of them.
      gets.mockClear();
      const fresh = new PersonalDataCipher(masterKey, reader);
      const pending = sealed.map((value) => fresh.open('acc_1', value));
      await fresh.shred('acc_1');
      expect(await Promise.all(pending)).toEqual([undefined, undefined, undefined]);
      expect(await fresh.open('acc_1', sealed[0])).toBeUndefined();
    } finally {
      await writer.close();
      await reader.close();
      removeDir(dir);
    }
  });
});
