// The writer thread of one SQLite file (sqlite-writer.ts): runs the calls it receives in batches,
// one transaction per batch, one savepoint per call.
import { parentPort, workerData } from 'node:worker_threads';
import { StoreAccess } from '../store-access';
import { dataKeyOperations } from './sqlite-data-key-tables';
import { openSqlite, SqliteDatabase } from './sqlite-database';
import { eventOperations } from './sqlite-event-tables';

export interface WriterSetup {
  file: string;
  tables: 'events' | 'data-keys';
  journal: 'wal' | 'rollback';
  access: StoreAccess;
}

export interface WriterCall {
  id: number;
  op: string;
  args: unknown[];
}

export type WriterReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; message: string; fields: Record<string, unknown> } };

/** What a file's tables offer: each operation runs on the writer's connection, inside the batch's transaction. */
export type Operations = Record<string, { writes: boolean; run: (...args: never[]) => unknown }>;

const OPERATIONS: Record<WriterSetup['tables'], (db: SqliteDatabase) => Operations> = {
  events: eventOperations,
  'data-keys': dataKeyOperations,
};

function serve(setup: WriterSetup) {
  const port = parentPort!;
  const db = openSqlite(setup.file, { durable: true, journal: setup.journal, access: setup.access });
  const operations = OPERATIONS[setup.tables](db);
  let queue: WriterCall[] = [];
  let scheduled = false;
  let closing = false;

  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length > 0) port.postMessage(runBatch(db, operations, batch));
    if (closing && queue.length === 0) {
      db.close();
      port.close();
    }
  };
  port.on('message', (message: WriterCall[] | { close: true }) => {
    if ('close' in message) closing = true;
    else queue.push(...message);
    // Everything that arrives before the thread gets round to it joins the same batch.
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

function runBatch(db: SqliteDatabase, operations: Operations, batch: WriterCall[]): WriterReply[] {
  // IMMEDIATE takes the write lock before anything is read (an append reads its stream's head under it).
  const writes = !db.readonly && batch.some((call) => operations[call.op]?.writes);
  try {
    db.exec(writes ? 'BEGIN IMMEDIATE' : 'BEGIN');
  } catch (error) {
    return batch.map((call) => failed(call.id, error));
  }
  const replies: WriterReply[] = [];
  for (const call of batch) {
    db.exec('SAVEPOINT call');
    try {
      const operation = operations[call.op];
      if (!operation) throw new Error(`No operation ${call.op}`);
      const value = operation.run(...(call.args as never[]));
      db.exec('RELEASE call');
      replies.push({ id: call.id, ok: true, value });
    } catch (error) {
      // Only this call's changes go; the batch's other calls stand.
      db.exec('ROLLBACK TO call');
      db.exec('RELEASE call');
      replies.push(failed(call.id, error));
    }
  }
  try {
    db.exec('COMMIT');
    return replies;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    return batch.map((call) => failed(call.id, error));
  }
}

function failed(id: number, error: unknown): WriterReply {
  if (!(error instanceof Error)) return { id, ok: false, error: { name: 'Error', message: String(error), fields: {} } };
  // Own fields (an SqliteError's code, a WrongExpectedRevision's stream and revisions) as far as they can cross threads.
  let fields: Record<string, unknown> = { ...error };
  try {
    fields = structuredClone(fields);
  } catch {
    fields = {};
  }
  return { id, ok: false, error: { name: error.name, message: error.message, fields } };
}

if (parentPort) serve(workerData as WriterSetup);
