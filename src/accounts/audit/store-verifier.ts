import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { isJsonObject } from '../../kernel/json';
import { EventStore, Position, progressOf, RecordedEvent, START } from '../../storage/event-store.port';
import { AccountEventCodec } from '../application/account-event-codec';
import { ACCOUNT_STREAM_PREFIX, accountStream } from '../application/account-repository';
import { EventChain, FIRST_SEALED_SCHEMA_VERSION, hashOfStoredEvent } from '../application/event-chain';
import { Account } from '../domain/account';
import { evolve } from '../domain/evolve';
import { AccountReadModel } from '../projection/account-read-model.port';
import { AccountRowCodec } from '../projection/account-row-codec';

/** One thing wrong, where it is: a stream and revision, or (stream null) the store as a whole. */
export interface VerificationProblem {
  stream: string | null;
  revision: bigint | null;
  problem: string;
}

export interface VerificationReport {
  events: number;
  streams: number;
  rows: number;
  /** Events written before seals existed: reported, not counted as problems. */
  unsealed: number;
  problems: VerificationProblem[];
}

export interface VerificationProgress {
  phase: 'chains' | 'read model';
  done: number;
  total: number;
}

export interface VerifyOptions {
  /** Only this account's stream and row; otherwise every stream and every row. */
  accountId?: string;
  onProgress?: (progress: VerificationProgress) => void;
  /** Each problem as soon as it is found. */
  onProblem?: (problem: VerificationProblem) => void;
}

type Problem = (stream: string | null, revision: bigint | null, text: string) => void;

const BATCH = 1000;
const ROW_BATCH = 200;

interface StreamState {
  revision: bigint;
  hash: string;
  /** Its last event at or before the head the check started at. */
  headRevision: bigint;
  sealed: boolean;
}

/**
 * Checks what a reviewer must be able to trust: every stream's hash chain and seals (nothing
 * edited, removed, reordered or rewritten without the master key), and every read-model row
 * against a fresh fold of its stream. Reads only; names each problem with its stream and revision,
 * and never a personal value.
 */
export class StoreVerifier {
  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly chain: EventChain,
    private readonly codec: AccountEventCodec,
    private readonly rows: AccountRowCodec,
    /** How long to let a running service's projection reach the head before calling the read model behind. */
    private readonly settleMs = 2000,
  ) {}

  async verify(options: VerifyOptions = {}): Promise<VerificationReport> {
    const report: VerificationReport = { events: 0, streams: 0, rows: 0, unsealed: 0, problems: [] };
    const problem = (stream: string | null, revision: bigint | null, text: string) => {
      const found = { stream, revision, problem: text };
      report.problems.push(found);
      options.onProblem?.(found);
    };
    const head = await this.store.headPosition();
    const streams = await this.checkChains(head, options, report, problem);
    report.streams = streams.size;
    await this.checkReadModel(head, streams, options, report, problem);
    return report;
  }

  private async checkChains(
    head: Position,
    options: VerifyOptions,
    report: VerificationReport,
    problem: Problem,
  ): Promise<Map<string, StreamState>> {
    const streams = new Map<string, StreamState>();
    // Once the log holds a sealed event, every event after it was written sealed too: an unsealed one lost its seal.
    let sealedSeen = false;
    const check = (event: RecordedEvent) => {
      const metadata = isJsonObject(event.metadata) ? event.metadata : {};
      const before = streams.get(event.stream);
      const expected = before ? before.revision + 1n : 0n;
      if (event.revision > expected) {
        const missing = event.revision - 1n > expected ? `revisions ${expected} to ${event.revision - 1n} are` : `revision ${expected} is`;
        problem(event.stream, expected, `${missing} missing: the stream goes from ${before ? `revision ${before.revision}` : 'its start'} to ${event.revision}`);
      } else if (event.revision < expected) {
        problem(event.stream, event.revision, `out of order: revision ${event.revision} comes after revision ${before!.revision}`);
      }
      const prevHash = metadata.prev_hash ?? null;
      if (prevHash !== (before?.hash ?? null)) {
        problem(event.stream, event.revision, before ? `prev_hash does not match the event before it (revision ${before.revision})` : 'prev_hash of the first event is not null');
      }
      const seal = this.chain.checkSeal(event);
      const sealedBefore = options.accountId ? (before?.sealed ?? false) : sealedSeen;
      if (seal === 'invalid') problem(event.stream, event.revision, 'seal does not match: the event was changed, moved or forged');
      else if (seal === 'unsealed' && Number(metadata.schema_version) >= FIRST_SEALED_SCHEMA_VERSION) {
        problem(event.stream, event.revision, `seal missing on an event of schema version ${String(metadata.schema_version)}: it was removed`);
      } else if (seal === 'unsealed' && sealedBefore) problem(event.stream, event.revision, 'unsealed event after sealed ones: its seal was removed');
      else if (seal === 'unsealed') report.unsealed += 1;
      const sealed = seal !== 'unsealed';
      sealedSeen ||= sealed;
      streams.set(event.stream, {
        revision: before && before.revision > event.revision ? before.revision : event.revision,
        hash: hashOfStoredEvent(event),
        headRevision: event.position <= head ? event.revision : (before?.headRevision ?? -1n),
        sealed: (before?.sealed ?? false) || sealed,
      });
      report.events += 1;
    };

    if (options.accountId) {
      const stream = accountStream(options.accountId);
      const events = await this.store.readStream(stream).catch((error: unknown) => {
        problem(stream, null, `the stream cannot be read (${errorName(error)}): an event was damaged`);
        return [];
      });
      for (const event of events) check(event);
      options.onProgress?.({ phase: 'chains', done: events.length, total: events.length });
      return streams;
    }
    // The global log in order, a batch at a time: memory grows with the number of streams, not of events.
    for (let after = START; after < head; ) {
      let batch: RecordedEvent[];
      try {
        batch = (await this.store.readAll(after, BATCH)).filter((event) => event.position <= head);
      } catch (error) {
        problem(null, null, `event store: the log cannot be read after position ${after} (${errorName(error)}): an event was damaged`);
        break;
      }
      if (batch.length === 0) break;
      for (const event of batch) check(event);
      after = batch.at(-1)!.position;
      options.onProgress?.({ phase: 'chains', done: progressOf(after), total: progressOf(head) });
    }
    return streams;
  }

  private async checkReadModel(
    head: Position,
    streams: Map<string, StreamState>,
    options: VerifyOptions,
    report: VerificationReport,
    problem: Problem,
  ): Promise<void> {
    const checkpoint = await this.settledCheckpoint(head);
    const caughtUp = checkpoint >= head;
    if (!caughtUp) {
      problem(null, null, `read model: behind the event store (applied up to position ${checkpoint} of ${head}): start the service to catch up, or run rebuild`);
    } else if (checkpoint > (await this.store.headPosition())) {
      problem(null, null, `read model: has applied events up to position ${checkpoint}, but the event store ends at ${head}: events were removed from the end of the log`);
    }

    const accountIds = [...streams.keys()].filter((stream) => stream.startsWith(ACCOUNT_STREAM_PREFIX)).map((stream) => stream.slice(ACCOUNT_STREAM_PREFIX.length));
    for (let i = 0; i < accountIds.length; i += ROW_BATCH) {
      const ids = accountIds.slice(i, i + ROW_BATCH);
      const rows = new Map((await this.readModel.getMany(ids)).map((row) => [row.id, row]));
      for (const id of ids) {
        const stream = accountStream(id);
        const state = streams.get(stream)!;
        const events = await this.store.readStream(stream).catch((error: unknown) => {
          problem(stream, null, `the stream cannot be read (${errorName(error)}): an event was damaged`);
          return null;
        });
        if (!events) continue;
        const row = rows.get(id);
        if (row) report.rows += 1;
        const last = events.at(-1)?.revision ?? -1n;
        // A row reflects the events up to its revision: compare it with exactly that fold.
        const revision = row ? row.revision : state.headRevision;
        const fold = await this.fold(id, events.filter((event) => event.revision <= revision), problem);
        if (fold === UNDECODABLE) continue;
        if (row && row.revision > last) {
          problem(stream, row.revision, `read model row is at revision ${row.revision}, but the stream ends at revision ${last}: events were removed`);
        } else if (row && !fold) {
          problem(stream, row.revision, 'read model row for an id whose stream holds no account');
        } else if (row && fold) {
          const account = await this.rows.toAccount(row).catch(() => null);
          const differing = account ? differences(fold, account) : ['(the row cannot be decoded)'];
          if (differing.length) problem(stream, row.revision, `read model row differs from a fresh fold of its stream in: ${differing.join(', ')}`);
        }
        // Up to the head, every event is applied once the checkpoint has passed it.
        if (caughtUp && (row?.revision ?? -1n) < state.headRevision && (row || fold)) {
          problem(stream, state.headRevision, row ? `read model row is at revision ${row.revision}: events up to ${state.headRevision} were not applied` : 'missing from the read model');
        }
      }
      options.onProgress?.({ phase: 'read model', done: Math.min(i + ROW_BATCH, accountIds.length), total: accountIds.length });
    }

    if (options.accountId) {
      if (accountIds.length === 0 && (await this.readModel.getMany([options.accountId])).length) {
        problem(accountStream(options.accountId), null, 'read model row without an event stream');
      }
      return;
    }
    const known = new Set(accountIds);
    for (let after: string | null = null; ; ) {
      const ids = await this.readModel.ids(after, 1000);
      if (ids.length === 0) break;
      for (const id of ids) if (!known.has(id)) problem(accountStream(id), null, 'read model row without an event stream');
      after = ids.at(-1)!;
    }
  }

  /** The read model's checkpoint once it has reached `head`, or after settleMs if it does not get there. */
  private async settledCheckpoint(head: Position): Promise<Position> {
    const deadline = Date.now() + this.settleMs;
    for (;;) {
      const checkpoint = await this.readModel.checkpoint();
      if (checkpoint >= head || Date.now() >= deadline) return checkpoint;
      await sleep(50);
    }
  }

  /** The fold of the events, or UNDECODABLE (already reported) when one of them cannot be decoded. */
  private async fold(accountId: string, events: RecordedEvent[], problem: Problem): Promise<Account | null | typeof UNDECODABLE> {
    let state: Account | null = null;
    for (const event of events) {
      try {
        state = evolve(state, await this.codec.decode(accountId, event));
      } catch (error) {
        problem(event.stream, event.revision, `cannot be decoded (${errorName(error)}): the event was damaged`);
        return UNDECODABLE;
      }
    }
    return state;
  }
}

const UNDECODABLE = Symbol('undecodable');

/** The name only: a message could quote the bytes it choked on. */
const errorName = (error: unknown) => (error instanceof Error ? error.name : 'unknown error');

/** The attributes in which two accounts differ: names only, never values (they may be personal). */
function differences(expected: Account, actual: Account): string[] {
  const names = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  return [...names].filter((name) => !isDeepStrictEqual(expected[name as keyof Account], actual[name as keyof Account]));
}
