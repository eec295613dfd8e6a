import { EventEmitter } from 'node:events';
import {
  AllSubscription,
  AllSubscriptionConsumer,
  AllSubscriptionOptions,
  ANY,
  Position,
  START,
  AppendResult,
  EventStore,
  EventToAppend,
  ExpectedRevision,
  NO_STREAM,
  RecordedEvent,
  WrongExpectedRevision,
} from '../event-store.port';
import { pollingSubscription } from '../polling-subscription';
import { StoreAccess } from '../store-access';
import { openSqlite, SqliteDatabase } from './sqlite-database';
import { createEventTables, EventToInsert, InsertedEvents } from './sqlite-event-tables';
import { SerializedError, SqliteWriter } from './sqlite-writer';

interface EventRow {
  position: number;
  stream: string;
  revision: number;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

/**
 * The embedded event store: one SQLite file, one table, the rowid as the global position. Appends
 * run on a writer thread (sqlite-writer.ts), batched: appends arriving together commit in one
 * transaction, each checked and inserted in a savepoint of its own, with one sync for the batch.
 * Reads run here, on a connection of their own (WAL: readers never wait for the writer).
 */
export class SqliteEventStore extends EventStore {
  private readonly db: SqliteDatabase;
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<AllSubscription>();
  private readonly statements;
  private writer: SqliteWriter | null = null;

  constructor(
    private readonly file: string,
    private readonly options: { access?: StoreAccess } = {},
  ) {
    super();
    this.db = openSqlite(file, { durable: true, access: options.access });
    if (!this.db.readonly) createEventTables(this.db);
    this.statements = {
      stream: this.db.prepare<[string], EventRow>('SELECT * FROM events WHERE stream = ? ORDER BY revision'),
      all: this.db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT ?'),
      headPosition: this.db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
    };
  }

  async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (events.length === 0) throw new Error('appendToStream needs at least one event');
    const rows: EventToInsert[] = events.map((event) => ({ id: event.id, type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) }));
    const inserted = await this.writerThread().call<InsertedEvents>('append', stream, rows, expected);
    const result = { nextExpectedRevision: BigInt(inserted.lastRevision), position: toPosition(inserted.lastRowid) };
    this.appended.emit('appended', result.position);
    return result;
  }

  /** Started at the first append: a store only read (the CLI's reviewers' commands) never starts one. */
  private writerThread(): SqliteWriter {
    if (this.db.readonly) throw new Error(`${this.file} is open read-only`);
    this.writer ??= new SqliteWriter({ file: this.file, tables: 'events', journal: 'wal', access: 'read-write' }, reviveWrongExpectedRevision);
    return this.writer;
  }

  async readStream(stream: string): Promise<RecordedEvent[]> {
    return this.statements.stream.all(stream).map(toRecorded);
  }

  async readAll(after: Position, maxCount: number): Promise<RecordedEvent[]> {
    return this.statements.all.all(fromPosition(after), maxCount).map(toRecorded);
  }

  /** The last event's position, whatever the prefixes: this store's subscriptions report the position of every page they read, so they reach it. */
  async headPosition(): Promise<Position> {
    const head = this.statements.headPosition.get()?.position;
    const position = head == null ? START : toPosition(head);
    // Whoever asks for the head is about to wait for it: subscriptions look at once, not at their next poll.
    this.appended.emit('head', position);
    return position;
  }

  onAppended(listener: (position: Position) => void): () => void {
    this.appended.on('appended', listener);
    return () => this.appended.off('appended', listener);
  }

  /** Polls the file, woken by this instance's appends and by head reads that found events written by other processes. */
  override subscribeToAll(options: AllSubscriptionOptions, consumer: AllSubscriptionConsumer): AllSubscription {
    const wakeUps = (wake: (position: Position) => void) => {
      this.appended.on('appended', wake).on('head', wake);
      return () => void this.appended.off('appended', wake).off('head', wake);
    };
    const subscription = pollingSubscription({ readAll: (after, maxCount) => this.readAll(after, maxCount), wakeUps }, options, consumer);
    this.subscriptions.add(subscription);
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async close(): Promise<void> {
    // A subscription left running would poll a closed file.
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    this.appended.removeAllListeners();
    await this.writer?.close();
    if (this.db.open) this.db.close();
  }
}

/** The writer thread's WrongExpectedRevision, as the port's own class. */
function reviveWrongExpectedRevision(error: SerializedError): Error | undefined {
  if (error.name !== WrongExpectedRevision.name) return undefined;
  const { stream, expected, actual } = error.fields as { stream: string; expected: ExpectedRevision; actual: bigint | typeof NO_STREAM };
  return new WrongExpectedRevision(stream, expected, actual);
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
    recordedAt: new Date(row.recorded_at),
  };
}

// The rowid, zero-padded to 20 digits (more than any rowid has), so positions compare as strings.
const POSITION_DIGITS = 20;
export const toPosition = (rowid: number | bigint): Position => String(rowid).padStart(POSITION_DIGITS, '0');

function fromPosition(position: Position): number {
  if (position === START) return 0;
  if (!/^\d{20}$/.test(position)) throw new Error(`Not a position of the SQLite event store: ${JSON.stringify(position)}`);
  return Number(position);
}
