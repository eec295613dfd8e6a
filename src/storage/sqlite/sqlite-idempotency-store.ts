import type Database from 'better-sqlite3';
import {
  IdempotencyRecord,
  IdempotencyRecordKey,
  IdempotencyStore,
  Reservation,
  ReservationClaim,
  reservationStep,
  StoredAnswer,
} from '../../idempotency/idempotency-store.port';
import { SqliteDatabase } from './sqlite-database';

// In state.sqlite, beside the read model and the API keys. Like the API keys, these records cannot
// be rebuilt from events, so the file runs with synchronous=FULL.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS idempotency_records (
    organization_id TEXT NOT NULL,
    environment     TEXT NOT NULL,
    key_hash        TEXT NOT NULL,
    fingerprint     TEXT,
    subject         TEXT,
    owner           TEXT,
    lease_until     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    status          INTEGER,
    headers         TEXT,
    body            TEXT,
    sealed          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, environment, key_hash)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS idempotency_records_by_subject ON idempotency_records (subject) WHERE subject IS NOT NULL;
  CREATE INDEX IF NOT EXISTS idempotency_records_by_age ON idempotency_records (created_at);`;

interface Row {
  fingerprint: string | null;
  subject: string | null;
  owner: string | null;
  lease_until: number;
  created_at: number;
  status: number | null;
  headers: string | null;
  body: string | null;
  sealed: number;
}

const KEY = 'organization_id = @organization_id AND environment = @environment AND key_hash = @key_hash';

/** Idempotency records in SQLite: a reservation is one IMMEDIATE transaction, so it is atomic across processes sharing the file. */
export class SqliteIdempotencyStore extends IdempotencyStore {
  private statementsMade: ReturnType<SqliteIdempotencyStore['prepare']> | null = null;
  private reserveTransaction: Database.Transaction<(key: IdempotencyRecordKey, claim: ReservationClaim) => Reservation> | null = null;

  constructor(private readonly db: SqliteDatabase) {
    super();
    // A read-only open (the reviewers' commands) never uses the records, and may find a file written before they existed.
    if (!db.readonly) db.exec(SCHEMA);
  }

  async reserve(key: IdempotencyRecordKey, claim: ReservationClaim): Promise<Reservation> {
    this.reserveTransaction ??= this.db.transaction((k: IdempotencyRecordKey, c: ReservationClaim) => {
      const row = this.statements.get.get(params(k));
      const { reservation, write } = reservationStep(row ? toRecord(row) : null, c);
      if (write === 'create') this.statements.create.run({ ...params(k), fingerprint: c.fingerprint, owner: c.owner, lease_until: c.leaseUntil, created_at: c.now });
      if (write === 'take_over') this.statements.takeOver.run({ ...params(k), owner: c.owner, lease_until: c.leaseUntil });
      return reservation;
    });
    return this.reserveTransaction.immediate(key, claim);
  }

  async renew(key: IdempotencyRecordKey, owner: string, leaseUntil: number): Promise<boolean> {
    return this.statements.renew.run({ ...params(key), owner, lease_until: leaseUntil }).changes === 1;
  }

  async recordSubject(key: IdempotencyRecordKey, owner: string, subject: string): Promise<boolean> {
    return this.statements.recordSubject.run({ ...params(key), owner, subject }).changes === 1;
  }

  async answer(key: IdempotencyRecordKey, owner: string, subject: string | null, answer: StoredAnswer): Promise<boolean> {
    const columns = { status: answer.status, headers: JSON.stringify(answer.headers), body: answer.body, sealed: answer.sealed ? 1 : 0 };
    return this.statements.answer.run({ ...params(key), owner, subject, ...columns }).changes === 1;
  }

  async release(key: IdempotencyRecordKey, owner: string, subject: string | null): Promise<boolean> {
    return this.statements.release.run({ ...params(key), owner, subject }).changes === 1;
  }

  async forget(key: IdempotencyRecordKey, owner: string): Promise<boolean> {
    return this.statements.forget.run({ ...params(key), owner }).changes === 1;
  }

  async purgeSubject(subject: string): Promise<number> {
    return this.statements.purge.run({ subject }).changes;
  }

  async sweep(createdBefore: number, limit: number): Promise<number> {
    return this.statements.sweep.run({ created_before: createdBefore, limit }).changes;
  }

  async get(key: IdempotencyRecordKey): Promise<IdempotencyRecord | null> {
    const row = this.statements.get.get(params(key));
    return row ? toRecord(row) : null;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private get statements() {
    return (this.statementsMade ??= this.prepare());
  }

  private prepare() {
    const db = this.db;
    return {
      get: db.prepare<[Record<string, unknown>], Row>(`SELECT * FROM idempotency_records WHERE ${KEY}`),
      create: db.prepare(
        `INSERT OR REPLACE INTO idempotency_records (organization_id, environment, key_hash, fingerprint, owner, lease_until, created_at)
         VALUES (@organization_id, @environment, @key_hash, @fingerprint, @owner, @lease_until, @created_at)`,
      ),
      takeOver: db.prepare(`UPDATE idempotency_records SET owner = @owner, lease_until = @lease_until WHERE ${KEY}`),
      renew: db.prepare(`UPDATE idempotency_records SET lease_until = @lease_until WHERE ${KEY} AND owner = @owner`),
      recordSubject: db.prepare(`UPDATE idempotency_records SET subject = @subject WHERE ${KEY} AND owner = @owner`),
      answer: db.prepare(
        `UPDATE idempotency_records SET subject = @subject, status = @status, headers = @headers, body = @body, sealed = @sealed, owner = NULL, lease_until = 0
         WHERE ${KEY} AND owner = @owner`,
      ),
      release: db.prepare(`UPDATE idempotency_records SET subject = COALESCE(@subject, subject), owner = NULL, lease_until = 0 WHERE ${KEY} AND owner = @owner`),
      forget: db.prepare(`DELETE FROM idempotency_records WHERE ${KEY} AND owner = @owner`),
      purge: db.prepare('UPDATE idempotency_records SET fingerprint = NULL, status = NULL, headers = NULL, body = NULL, sealed = 0 WHERE subject = @subject'),
      sweep: db.prepare(
        `DELETE FROM idempotency_records WHERE (organization_id, environment, key_hash) IN
           (SELECT organization_id, environment, key_hash FROM idempotency_records WHERE created_at < @created_before LIMIT @limit)`,
      ),
    };
  }
}

const params = (key: IdempotencyRecordKey) => ({ organization_id: key.tenant.organization_id, environment: key.tenant.environment, key_hash: key.keyHash });

function toRecord(row: Row): IdempotencyRecord {
  return {
    fingerprint: row.fingerprint,
    subject: row.subject,
    owner: row.owner,
    leaseUntil: row.lease_until,
    createdAt: row.created_at,
    answer: row.status === null ? null : { status: row.status, headers: JSON.parse(row.headers ?? '{}'), body: row.body ?? '', sealed: row.sealed === 1 },
  };
}
