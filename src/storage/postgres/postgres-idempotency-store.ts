import { Pool } from 'pg';
import {
  IdempotencyRecord,
  IdempotencyRecordKey,
  IdempotencyStore,
  Reservation,
  ReservationClaim,
  reservationStep,
  StoredAnswer,
} from '../../idempotency/idempotency-store.port';
import { inTransaction } from './postgres-pool';

interface Row {
  fingerprint: string | null;
  subject: string | null;
  owner: string | null;
  /** bigint: pg hands it over as a string. */
  lease_until: string;
  created_at: string;
  status: number | null;
  headers: string | null;
  body: string | null;
  sealed: boolean;
}

const KEY = 'organization_id = $1 AND environment = $2 AND key_hash = $3';

/**
 * Idempotency records on PostgreSQL (migration 7), with the SQLite adapter's semantics. A
 * reservation locks the record's row (or, for a new key, inserts it; of two racing inserts one
 * conflicts and looks again), so it is atomic across service instances.
 */
export class PostgresIdempotencyStore extends IdempotencyStore {
  constructor(private readonly pool: Pool) {
    super();
  }

  async reserve(key: IdempotencyRecordKey, claim: ReservationClaim): Promise<Reservation> {
    return inTransaction(this.pool, async (client) => {
      for (;;) {
        const { rows } = await client.query<Row>(`SELECT * FROM idempotency_records WHERE ${KEY} FOR UPDATE`, params(key));
        const { reservation, write } = reservationStep(rows[0] ? toRecord(rows[0]) : null, claim);
        if (write === 'create' && rows[0]) {
          await client.query(
            `UPDATE idempotency_records SET fingerprint = $4, owner = $5, lease_until = $6, created_at = $7, subject = NULL, status = NULL, headers = NULL, body = NULL, sealed = false
             WHERE ${KEY}`,
            [...params(key), claim.fingerprint, claim.owner, claim.leaseUntil, claim.now],
          );
        } else if (write === 'create') {
          const inserted = await client.query(
            `INSERT INTO idempotency_records (organization_id, environment, key_hash, fingerprint, owner, lease_until, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
            [...params(key), claim.fingerprint, claim.owner, claim.leaseUntil, claim.now],
          );
          // Another instance inserted it first: its row is committed now, so look again (and wait for its lock).
          if (inserted.rowCount === 0) continue;
        } else if (write === 'take_over') {
          await client.query(`UPDATE idempotency_records SET owner = $4, lease_until = $5 WHERE ${KEY}`, [...params(key), claim.owner, claim.leaseUntil]);
        }
        return reservation;
      }
    });
  }

  async renew(key: IdempotencyRecordKey, owner: string, leaseUntil: number): Promise<boolean> {
    return this.changed(`UPDATE idempotency_records SET lease_until = $5 WHERE ${KEY} AND owner = $4`, [...params(key), owner, leaseUntil]);
  }

  async recordSubject(key: IdempotencyRecordKey, owner: string, subject: string): Promise<boolean> {
    return this.changed(`UPDATE idempotency_records SET subject = $5 WHERE ${KEY} AND owner = $4`, [...params(key), owner, subject]);
  }

  async answer(key: IdempotencyRecordKey, owner: string, subject: string | null, answer: StoredAnswer): Promise<boolean> {
    return this.changed(
      `UPDATE idempotency_records SET subject = $5, status = $6, headers = $7, body = $8, sealed = $9, owner = NULL, lease_until = 0
       WHERE ${KEY} AND owner = $4`,
      [...params(key), owner, subject, answer.status, JSON.stringify(answer.headers), answer.body, answer.sealed],
    );
  }

  async release(key: IdempotencyRecordKey, owner: string, subject: string | null): Promise<boolean> {
    return this.changed(`UPDATE idempotency_records SET subject = COALESCE($5, subject), owner = NULL, lease_until = 0 WHERE ${KEY} AND owner = $4`, [
      ...params(key),
      owner,
      subject,
    ]);
  }

  async forget(key: IdempotencyRecordKey, owner: string): Promise<boolean> {
    return this.changed(`DELETE FROM idempotency_records WHERE ${KEY} AND owner = $4`, [...params(key), owner]);
  }

  async purgeSubject(subject: string): Promise<number> {
    const result = await this.pool.query(
      'UPDATE idempotency_records SET fingerprint = NULL, status = NULL, headers = NULL, body = NULL, sealed = false WHERE subject = $1',
      [subject],
    );
    return result.rowCount ?? 0;
  }

  async sweep(createdBefore: number, limit: number): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM idempotency_records WHERE (organization_id, environment, key_hash) IN
         (SELECT organization_id, environment, key_hash FROM idempotency_records WHERE created_at < $1 LIMIT $2)`,
      [createdBefore, limit],
    );
    return result.rowCount ?? 0;
  }

  async get(key: IdempotencyRecordKey): Promise<IdempotencyRecord | null> {
    const { rows } = await this.pool.query<Row>(`SELECT * FROM idempotency_records WHERE ${KEY}`, params(key));
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The pool belongs to whoever made it (PostgresStorage). */
  async close(): Promise<void> {}

  private async changed(text: string, values: unknown[]): Promise<boolean> {
    return ((await this.pool.query(text, values)).rowCount ?? 0) === 1;
  }
}

const params = (key: IdempotencyRecordKey) => [key.tenant.organization_id, key.tenant.environment, key.keyHash];

function toRecord(row: Row): IdempotencyRecord {
  return {
    fingerprint: row.fingerprint,
    subject: row.subject,
    owner: row.owner,
    leaseUntil: Number(row.lease_until),
    createdAt: Number(row.created_at),
    answer: row.status === null ? null : { status: row.status, headers: JSON.parse(row.headers ?? '{}'), body: row.body ?? '', sealed: row.sealed },
  };
}
