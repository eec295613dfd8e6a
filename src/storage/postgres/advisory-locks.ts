// Advisory locks (class, object). Transaction-level ones (pg_advisory_xact_lock) are released by
// COMMIT or ROLLBACK; the session-level one (the projection lease) by its connection's end. Either
// way a crashed client never leaves one behind. Advisory locks are per database; the class keeps
// this service's locks apart from any other application's in the same database.

export const LOCK_CLASS = 0x1dac;

export const LOCKS = {
  /** Held while the schema is migrated: instances starting at once apply each step once. */
  migrations: 1,
  /** Held by every event-store append until it commits: see PostgresEventStore. */
  appends: 2,
  /** Held, session-level, by the one instance that applies the accounts projection: see PostgresProjectionLease. */
  accountsProjection: 3,
} as const;
