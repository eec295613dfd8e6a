import { randomBytes } from 'node:crypto';
import { PersonalDataCipher } from '../../src/crypto/personal-data-cipher';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage';
import { removeDir, tempDataDir } from '../support/app-harness';

describe('PersonalDataCipher across processes', () => {
  it('refuses to seal with a key another process has shredded, even while this one has it cached', async () => {
    const dir = tempDataDir();
    const masterKey = randomBytes(32);
    // Two "processes": separate connections to the same files, separate key caches.
    const [a, b] = [new SqliteStorage(dir), new SqliteStorage(dir)];
    const [cipherA, cipherB] = [new PersonalDataCipher(masterKey, a.dataKeys), new PersonalDataCipher(masterKey, b.dataKeys)];
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
});
