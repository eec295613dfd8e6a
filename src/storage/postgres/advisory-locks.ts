// Transaction-level advisory locks (pg_advisory_xact_lock(class, object)): released by COMMIT or
// ROLLBACK, so a crashed client never leaves one behind. Advisory locks are per database; the class
// keeps this service's locks apart from any other application's in the same database.

export const LOCK_CLASS = 0x1dac;

export const LOCKS = {
  /** Held while the schema is migrated: instances starting at once apply each step once. */
  migrations: 1,
  /** Held by every event-store append until it commits: see PostgresEventStore. */
  appends: 2,
} as const;
