/**
 * read-write: what the service runs with; stores that do not exist yet are created.
 * read-only: for reviewers' commands (replay, export, verify, keys list): nothing is created and
 * nothing is written, so a wrong DATA_DIR is an error instead of a new, empty store.
 */
export type StoreAccess = 'read-write' | 'read-only';

/** A read-only open found no store where the configuration points. */
export class StoreMissing extends Error {
  constructor(readonly location: string) {
    super(`No store at ${location}: nothing was created. Is DATA_DIR the service's data directory?`);
    this.name = 'StoreMissing';
  }
}
