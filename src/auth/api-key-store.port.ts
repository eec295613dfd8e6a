import { ApiKeyRecord } from './api-key';

export abstract class ApiKeyStore {
  /** Stores the record; a record with the same hash already stored is kept as it is. */
  abstract insert(record: ApiKeyRecord): Promise<void>;
  abstract findByHash(hash: string): Promise<ApiKeyRecord | null>;
  abstract list(): Promise<ApiKeyRecord[]>;
  /** Returns false when no unrevoked key has this id. */
  abstract revoke(id: string, at: string): Promise<boolean>;
  abstract count(): Promise<number>;
  abstract close(): Promise<void>;
}
