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
});
