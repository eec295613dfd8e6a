import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataKeyStore } from './data-key-store.port';

export const MASTER_KEY_FILE = 'master.key';

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

/**
 * The embedded default: a key generated once into DATA_DIR, readable by its owner only. Never
 * generated for a DATA_DIR that already holds data: a new key could open none of it.
 */
export function loadOrCreateMasterKeyFile(dataDir: string, options: { dataExists: boolean } = { dataExists: false }): Buffer {
  const file = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    if (options.dataExists) {
      throw new MasterKeyMismatch(`${dataDir} holds accounts but no ${MASTER_KEY_FILE}: set ACCOUNTS_MASTER_KEY or restore the key file`);
    }
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

/** The key file of DATA_DIR, never created: for read-only use, where a new key could open nothing. */
export function readMasterKeyFile(dataDir: string): Buffer {
  const file = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) throw new MasterKeyMismatch(`No master key: set ACCOUNTS_MASTER_KEY, or put the key file at ${file}`);
  const key = parseMasterKey(readFileSync(file, 'utf8'));
  if (!key) throw new Error(`${file} does not hold a 256-bit key (64 hex characters)`);
  return key;
}

/** A key file's text: 64 hex characters and a newline. */
const keyFileText = (key: Buffer) => `${key.toString('hex')}\n`;

/** Writes a file that must not exist yet, owner-only, and makes it durable (the file, then its directory's entry). */
function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectory(dirname(file));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A new random master key, written to a file that must not exist yet, readable by its owner only. */
export function generateMasterKeyFile(file: string): Buffer {
  const key = randomBytes(32);
  writeDurably(file, keyFileText(key));
  return key;
}

/**
 * Puts a new key into DATA_DIR/master.key at once: written aside (owner-only, synced), then renamed
 * over the old file, so a crash leaves either the old key or the new one, never a torn file.
 */
export function replaceMasterKeyFile(dataDir: string, key: Buffer): void {
  const file = join(dataDir, MASTER_KEY_FILE);
  const draft = `${file}.${process.pid}.tmp`;
  rmSync(draft, { force: true });
  writeDurably(draft, keyFileText(key));
  renameSync(draft, file);
  syncDirectory(dataDir);
}

/** The master key is not the one the stored data was sealed with. */
export class MasterKeyMismatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyMismatch';
  }
}

/** What the data-key store keeps to recognise the master key: a subkey of it, which reveals nothing of it. */
export function masterKeyCheckValue(masterKey: Buffer): string {
  return deriveSubkey(masterKey, 'master-key-check').toString('hex');
}

/** The check value stored while a master-key rotation is under way (rotateMasterKey): neither key passes it. */
export const ROTATION_MARK = 'rotating:';

/**
 * Refuses to start with a master key other than the one the data keys were wrapped with. The first
 * start stores the check value; a read-only check only compares with a stored one.
 */
export async function verifyMasterKey(masterKey: Buffer, keys: DataKeyStore, options: { store: boolean } = { store: true }): Promise<void> {
  const check = masterKeyCheckValue(masterKey);
  const stored = options.store ? await keys.keepMasterKeyCheck(check) : ((await keys.masterKeyCheck()) ?? check);
  if (stored.startsWith(ROTATION_MARK)) {
    throw new MasterKeyMismatch(
      'A master-key rotation is unfinished (still running, or interrupted): some data keys are under the old master key, some under the new. Let it finish, or run it again with the same two keys',
    );
  }
  if (stored !== check) {
    throw new MasterKeyMismatch('The master key is not the one this data was written with: set ACCOUNTS_MASTER_KEY (or DATA_DIR/master.key) back to it');
  }
}
