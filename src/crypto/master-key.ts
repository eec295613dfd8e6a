import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

/** DI token of the master key (a Buffer), resolved once at start-up. */
export const MASTER_KEY = Symbol('MasterKey');

/** A key for one purpose, HMAC-SHA256(masterKey, purpose): no two uses of the master key share a key. */
export function deriveSubkey(masterKey: Buffer, purpose: string): Buffer {
  return createHmac('sha256', masterKey).update(purpose, 'utf8').digest();
}

/** Parses a 256-bit key given as 64 hex characters or as base64. */
export function parseMasterKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, 'base64');
  return decoded.length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(trimmed) ? decoded : null;
}

/** The embedded default: a key generated once into DATA_DIR, readable by its owner only. */
export function loadOrCreateMasterKeyFile(dataDir: string): Buffer {
  const file = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // Written aside and linked into place: two processes starting at once agree on one key.
    const draft = `${file}.${process.pid}.tmp`;
    writeFileSync(draft, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
    try {
      linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(draft, { force: true });
    }
  }
  chmodSync(file, 0o600);
  const key = parseMasterKey(readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 256-bit key (64 hex characters)`);
  return key;
}
