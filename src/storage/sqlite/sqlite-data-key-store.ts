import { DataKeyStore, Rewrap, WrappedDataKey } from '../../crypto/data-key-store.port';
import { StoreAccess, StoreMissing } from '../store-access';
import { fileExists, SqliteWriter } from './sqlite-writer';

// Buffers cross the thread as Uint8Arrays: seen as Buffers again here.
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const asNullableBuffer = (bytes: Uint8Array | null) => (bytes ? asBuffer(bytes) : null);

/**
 * keys.sqlite, read and written on a writer thread (sqlite-data-key-tables.ts): the keys of accounts
 * created at the same moment are stored in one transaction, one sync for all of them, and no
 * commit or lock wait of this rollback-journal file ever holds up the event loop.
 */
export class SqliteDataKeyStore extends DataKeyStore {
  private readonly writer: SqliteWriter;

  constructor(file: string, options: { access?: StoreAccess } = {}) {
    super();
    const access = options.access ?? 'read-write';
    if (!fileExists(file, access)) throw new StoreMissing(file);
    // No WAL: a destroyed data key must leave no old page image behind, whoever is reading.
    this.writer = new SqliteWriter({ file, tables: 'data-keys', journal: 'rollback', access });
  }

  async get(accountId: string): Promise<Buffer | null> {
    return asNullableBuffer(await this.writer.call<Uint8Array | null>('get', accountId));
  }

  async putIfAbsent(accountId: string, wrappedKey: Buffer): Promise<Buffer> {
    return asBuffer(await this.writer.call<Uint8Array>('putIfAbsent', accountId, wrappedKey));
  }

  async destroy(accountId: string): Promise<void> {
    await this.writer.call('destroy', accountId);
  }

  keepMasterKeyCheck(check: string): Promise<string> {
    return this.writer.call('keepMasterKeyCheck', check);
  }

  masterKeyCheck(): Promise<string | null> {
    return this.writer.call('masterKeyCheck');
  }

  replaceMasterKeyCheck(expected: string | null, replacement: string): Promise<boolean> {
    return this.writer.call('replaceMasterKeyCheck', expected, replacement);
  }

  async listWrapped(after: string, limit: number): Promise<WrappedDataKey[]> {
    const keys = await this.writer.call<WrappedDataKey[]>('listWrapped', after, limit);
    return keys.map((key) => ({ accountId: key.accountId, wrappedKey: asBuffer(key.wrappedKey) }));
  }

  rewrap(changes: readonly Rewrap[]): Promise<string[]> {
    return this.writer.call('rewrap', changes);
  }

  count(): Promise<number> {
    return this.writer.call('count');
  }

  async deploymentKey(purpose: string): Promise<Buffer | null> {
    return asNullableBuffer(await this.writer.call<Uint8Array | null>('deploymentKey', purpose));
  }

  async keepDeploymentKey(purpose: string, wrappedKey: Buffer): Promise<Buffer> {
    return asBuffer(await this.writer.call<Uint8Array>('keepDeploymentKey', purpose, wrappedKey));
  }

  replaceDeploymentKey(purpose: string, current: Buffer, replacement: Buffer): Promise<boolean> {
    return this.writer.call('replaceDeploymentKey', purpose, current, replacement);
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
