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
import { GroupedCalls } from '../grouped-calls';
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
  /** Group commit of appends: see appendToStream. */
  private readonly appends = new GroupedCalls<PendingAppend, AppendResult>((batch) => this.appendBatch(batch), {
    maxWeight: MAX_BATCH_EVENTS,
    weight: (append) => append.events.length,
  });

  constructor(private readonly pool: Pool) {
    super();
    this.appended.setMaxListeners(0);
  }

  /**
   * Group commit: appends made while a batch is being committed wait for the next batch, which
   * decides each in order (its expected revision against the head as the batch's earlier appends
   * left it), inserts the accepted ones in one statement and commits once: one commit flush for
   * the batch, one turn of the append lock. Each caller gets its own result or its own
   * WrongExpectedRevision.
   */
  appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new Error('appendToStream needs at least one event'));
    return this.appends.call({ stream, events, expected }).then((result) => {
      this.appended.emit('appended', result.position);
      return result;
    });
  }

  /** One transaction: the lock, the heads of the batch's streams, the checks, one INSERT of every accepted event, the notification. */
  private appendBatch(batch: readonly PendingAppend[]): Promise<(AppendResult | WrongExpectedRevision)[]> {
    return inTransaction(this.pool, async (client) => {
      await client.query({ name: 'events-append-lock', text: 'SELECT pg_advisory_xact_lock($1, $2)', values: [LOCK_CLASS, LOCKS.appends] });
      // A statement after the lock: under READ COMMITTED its snapshot includes every append committed before.
      const streams = [...new Set(batch.map((append) => append.stream))];
      const heads = await client.query<{ stream: string; revision: string }>(
        'SELECT stream, max(revision) AS revision FROM events WHERE stream = ANY($1::text[]) GROUP BY stream',
        [streams],
      );
      const head = new Map<string, bigint>(heads.rows.map((row) => [row.stream, BigInt(row.revision)]));
      const values: unknown[] = [];
      const rows: string[] = [];
      const outcomes = batch.map(({ stream, events, expected }) => {
        const current = head.get(stream);
        const actual = current === undefined ? NO_STREAM : current;
        if (expected !== ANY && expected !== actual) return new WrongExpectedRevision(stream, expected, actual);
        const first = current === undefined ? 0n : current + 1n;
        events.forEach((event, i) => {
          values.push(stream, String(first + BigInt(i)), event.id, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata));
          const p = rows.length * 6;
          rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6})`);
        });
        const last = first + BigInt(events.length - 1);
        head.set(stream, last);
        return { first: rows.length - events.length, count: events.length, nextExpectedRevision: last };
      });
      if (rows.length === 0) return outcomes as WrongExpectedRevision[];
      // VALUES rows are inserted in the order listed, so positions ascend with revisions and with the batch's order.
      const inserted = await client.query<{ position: string }>(
        `INSERT INTO events (stream, revision, event_id, type, data, metadata) VALUES ${rows.join(', ')} RETURNING position`,
        values,
      );
      const positions = inserted.rows.map((row) => BigInt(row.position)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      // Delivered at commit, to other instances' subscriptions (listenForAppends).
      await client.query({ name: 'events-notify', text: 'SELECT pg_notify($1, $2)', values: [APPENDED_CHANNEL, toPosition(positions[positions.length - 1])] });
      return outcomes.map((outcome) =>
        outcome instanceof WrongExpectedRevision
          ? outcome
          : { nextExpectedRevision: outcome.nextExpectedRevision, position: toPosition(positions[outcome.first + outcome.count - 1]) },
      );
    }).catch(async (error: unknown) => {
      // The unique constraint is the backstop should anything write without the lock: a lone append hears of it as a conflict.
      if (batch.length !== 1 || !isStreamRevisionConflict(error)) throw error;
      const [{ stream, expected }] = batch;
      const head = await this.pool.query<{ revision: string | null }>('SELECT max(revision) AS revision FROM events WHERE stream = $1', [stream]);
      const current = head.rows[0].revision;
      return [new WrongExpectedRevision(stream, expected, current === null ? NO_STREAM : BigInt(current))];
    });
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>({ name: 'events-read-stream', text: `SELECT ${COLUMNS} FROM events WHERE stream = $1 ORDER BY revision`, values: [stream] });
    return rows.map(toRecorded);
  }

  async readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query<EventRow>({
      name: 'events-read-all',
      text: `SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
      values: [fromPosition(after), maxCount],
    });
    return rows.map(toRecorded);
  }

  async headPosition(): Promise<Position> {
    const { rows } = await this.pool.query<{ position: string | null }>({ name: 'events-head', text: 'SELECT max(position) AS position FROM events' });
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

interface PendingAppend {
  stream: string;
  events: EventToAppend[];
  expected: ExpectedRevision;
}

/** At most this many events per batch: six parameters each, well under PostgreSQL's 65,535 per statement. */
const MAX_BATCH_EVENTS = 1000;

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
