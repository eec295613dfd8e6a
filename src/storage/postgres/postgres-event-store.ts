import { EventEmitter } from 'node:events';
import { DatabaseError, Pool } from 'pg';
import {
  AllSubscription,
  AllSubscriptionConsumer,
  AllSubscriptionOptions,
  ANY,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  NO_STREAM,
  Position,
  RecordedEvent,
  START,
  WrongExpectedRevision,
} from '../event-store.port';
import { pollingSubscription } from '../polling-subscription';
import { LOCK_CLASS, LOCKS } from './advisory-locks';
import { APPENDED_CHANNEL, listenForAppends } from './append-notifications';
import { inTransaction } from './postgres-pool';

interface EventRow {
  position: string;
  stream: string;
  revision: string;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  /** timestamptz(3): pg reads it as a Date, to the millisecond. */
  recorded_at: Date;
}

const COLUMNS = 'position, stream, revision, event_id, type, data, metadata, recorded_at';
const UNIQUE_VIOLATION = '23505';

/**
 * The event store on PostgreSQL: one `events` table (migration 1), an identity column as the global
 * position, UNIQUE (stream, revision) so no two writers can both take a revision.
 *
 * Commit order. A sequence value is taken when a row is inserted, long before its transaction
 * commits, so with concurrent appends position 5 may become visible before 4: a projection that
 * read 5 and moved its checkpoint past it would never see 4. Every append therefore takes one
 * transaction-level advisory lock before it reads the stream's head and takes positions, and holds
 * it until its commit is visible (PostgreSQL makes a commit visible before it releases the
 * transaction's locks). Appends thus take positions and commit in the same order, and what a reader
 * sees is always a prefix of the log: `readAll` is a plain `position > after`. The cost is that
 * appends, across every process, commit one at a time (hundreds to a few thousand per second,
 * bounded by the server's commit flush). The alternative, a visibility watermark (reading only
 * below the oldest transaction still in progress, pg_snapshot_xmin), lets appends run in parallel
 * but stalls every reader behind any long transaction in the database and needs positions of
 * (transaction id, sequence): more than this service's write rate calls for.
 *
 * Under the lock the head read is current, so the expected-revision check is exact; the unique
 * constraint is the backstop should anything write without the lock.
 */
export class PostgresEventStore extends EventStore {
  private readonly appended = new EventEmitter();

  constructor(private readonly pool: Pool) {
    super();
    this.appended.setMaxListeners(0);
  }

  async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const result = await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, LOCKS.appends]);
      // A statement after the lock: under READ COMMITTED its snapshot includes every append committed before.
      const head = await client.query<{ revision: string | null }>('SELECT max(revision) AS revision FROM events WHERE stream = $1', [stream]);
      const current = head.rows[0].revision;
      const actual = current === null ? NO_STREAM : BigInt(current);
      if (expected !== ANY && expected !== actual) throw new WrongExpectedRevision(stream, expected, actual);
      const first = current === null ? 0n : BigInt(current) + 1n;
      const values: unknown[] = [];
      const rows = events.map((event, i) => {
        values.push(stream, String(first + BigInt(i)), event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
        const p = i * 6;
        return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`;
      });
      // VALUES rows are inserted in the order listed, so positions ascend with revisions.
      const inserted = await client
        .query<{ position: string }>(
          `INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES ${rows.join(', ')} RETURNING position`,
          values,
        )
        .catch(async (error: unknown) => {
          if (!isStreamRevisionConflict(error)) throw error;
          throw new WrongExpectedRevision(stream, expected, actual);
        });
      const last = inserted.rows.map((row) => BigInt(row.position)).reduce((a, b) => (a > b ? a : b));
      // Delivered at commit, to other instances' subscriptions (listenForAppends).
      await client.query('SELECT pg_notify($1, $2)', [APPENDED_CHANNEL, toPosition(last)]);
      return { nextExpectedRevision: first + BigInt(events.length - 1), position: toPosition(last) };
    });
    this.appended.emit('appended', result.position);
    return result;
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream = $1 ORDER BY revision`, [stream]);
    return rows.map(toRecorded);
  }

  async readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [
      fromPosition(after),
      maxCount,
    ]);
    return rows.map(toRecorded);
  }

  async headPosition(): Promise<Position> {
    const { rows } = await this.pool.query<{ position: string | null }>('SELECT max(position) AS position FROM events');
    return rows[0].position === null ? START : toPosition(rows[0].position);
  }

  onAppended(listener: (position: Position) => void): () => void {
    this.appended.on('appended', listener);
    return () => this.appended.off('appended', listener);
  }

  /** Polls, woken by this instance's appends and by every other instance's, which they NOTIFY. */
  override subscribeToAll(options: AllSubscriptionOptions, consumer: AllSubscriptionConsumer): AllSubscription {
    const wakeUps = (wake: (position: Position) => void) => {
      this.appended.on('appended', wake);
      const notifications = listenForAppends(this.pool, wake);
      return () => {
        this.appended.off('appended', wake);
        notifications.stop();
      };
    };
    return pollingSubscription({ readAll: (after, maxCount) => this.readAll(after, maxCount), wakeUps }, options, consumer);
  }

  /** Ends the listeners only: the pool belongs to whoever made it (PostgresStorage). */
  async close(): Promise<void> {
    this.appended.removeAllListeners();
  }
}

function isStreamRevisionConflict(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === UNIQUE_VIOLATION && error.constraint === 'events_stream_revision';
}

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    stream: row.stream,
    revision: BigInt(row.revision),
    position: toPosition(row.position),
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    recordedAt: row.recorded_at,
  };
}

// The position column (a bigint, which pg hands over as a string), zero-padded to 20 digits (a
// bigint has at most 19), so positions compare as strings: the SQLite adapter's convention.
const POSITION_DIGITS = 20;
export const toPosition = (position: string | bigint): Position => String(position).padStart(POSITION_DIGITS, '0');

function fromPosition(position: Position): string {
  if (position === START) return '0';
  if (!/^\d{20}$/.test(position)) throw new Error(`Not a position of the PostgreSQL event store: ${JSON.stringify(position)}`);
  return BigInt(position).toString();
}
