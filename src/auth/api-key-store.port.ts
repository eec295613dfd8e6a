import { ApiKeyRecord } from './api-key';

export abstract class ApiKeyStore {
  /** Stores the record; a record with the same hash already stored is kept as it is. */
  abstract insert(record: ApiKeyRecord): Promise<void>;
  abstract findByHash(hash: string): Promise<ApiKeyRecord | null>;
  abstract list(): Promise<ApiKeyRecord[]>;
  /** Returns false when no unrevoked key has this id. */
  abstract revoke(id: string, at: string): Promise<boolean>;
  abstract count(): Promise<number>;
  /**
   * A number that changes whenever any key is added, revoked or removed, by any process or instance
   * sharing the store (the CLI, another service). Read on every request, so it must be one cheap read.
   */
  abstract generation(): Promise<number>;
  abstract close(): Promise<void>;
}
