import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';
import { MASTER_KEY_FILE } from '../../src/crypto/master-key';
import { GUIDE_CREATE_ATTRIBUTES, removeDir, startApp, tempDataDir } from '../support/app-harness';

describe('The master key', () => {
  it('is generated into DATA_DIR, readable by its owner only, and kept across restarts', async () => {
    const first = await startApp();
    const { id } = (await first.create(GUIDE_CREATE_ATTRIBUTES).expect(201)).body.data;
    await first.close();
    const file = join(first.dataDir, MASTER_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // So is every store beside it.
    for (const name of readdirSync(first.dataDir)) expect([name, statSync(join(first.dataDir, name)).mode & 0o777]).toEqual([name, 0o600]);

    const second = await startApp({ dataDir: first.dataDir, key: first.key });
    try {
      // The same key again: the personal data sealed before the restart still opens.
      expect((await second.get(id).expect(200)).body.data.attributes.contact.email).toBe('jane@example.com');
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });

  it('comes from ACCOUNTS_MASTER_KEY when set, and then no key file is written', async () => {
    const dataDir = tempDataDir();
    const t = await startApp({ dataDir, env: { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('hex') } });
    try {
      await t.create(GUIDE_CREATE_ATTRIBUTES).expect(201);
      expect(existsSync(join(dataDir, MASTER_KEY_FILE))).toBe(false);
    } finally {
      await t.close();
      removeDir(dataDir);
    }
  });

  it('refuses to start with another master key than the data was written with, or with none', async () => {
    const dataDir = tempDataDir();
    const original = randomBytes(32).toString('hex');
    const first = await startApp({ dataDir, env: { ACCOUNTS_MASTER_KEY: original } });
    const { id } = (await first.create(GUIDE_CREATE_ATTRIBUTES).expect(201)).body.data;
    await first.close();
    try {
      await expect(startApp({ dataDir, key: first.key, env: { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('hex') } })).rejects.toThrow(
        /not the one this data was written with/,
      );
      // Without ACCOUNTS_MASTER_KEY it must not invent a key file for data it could not read.
      await expect(startApp({ dataDir, key: first.key })).rejects.toThrow(/holds accounts but no master.key/);
      expect(existsSync(join(dataDir, MASTER_KEY_FILE))).toBe(false);

      const again = await startApp({ dataDir, key: first.key, env: { ACCOUNTS_MASTER_KEY: original } });
      try {
        expect((await again.get(id).expect(200)).body.data.attributes.contact.email).toBe('jane@example.com');
      } finally {
        await again.close();
      }
    } finally {
      removeDir(dataDir);
    }
  });

  it('stops start-up with one clear message when it or any other setting is invalid', () => {
    expect(() => loadConfig({ ACCOUNTS_MASTER_KEY: 'too-short', PORT: 'eighty', EVENT_STORE: 'mongo' })).toThrow(
      /Invalid configuration: PORT must be a port number.*EVENT_STORE must be.*ACCOUNTS_MASTER_KEY must be 32 bytes/,
    );
  });
});
