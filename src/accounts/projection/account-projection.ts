import { EventEmitter, once } from 'node:events';
import { AllSubscription, EventStore, LogChunk, Position, RecordedEvent } from '../../storage/event-store.port';
import { ACCOUNT_STREAM_PREFIX } from '../application/account-repository';
import { AccountEventCodec } from '../application/account-event-codec';
import { Account } from '../domain/account';
import { evolve } from '../domain/evolve';
import { ACCOUNT_REDACTED } from '../domain/events';
import { AccountReadModel, AccountRow } from './account-read-model.port';
import { AccountRowCodec } from './account-row-codec';

export interface ProjectionOptions {
  batchSize: number;
  /** How often a store that cannot push looks for events written by other processes. */
  pollIntervalMs: number;
  onError?: (error: unknown) => void;
  /**
   * Called for each account.redacted applied. The redact handler destroys the data key right after
   * storing the event; this finishes the job if that process died in between (it is idempotent).
   */
  onRedacted?: (accountId: string) => Promise<void>;
}

/** The read model did not reach a write's position in time. */
export class ProjectionLagging extends Error {
  constructor(readonly position: Position) {
    super(`The read model has not yet reached position ${position}`);
    this.name = 'ProjectionLagging';
  }
}

/**
 * A catch-up subscriber of the global log that keeps the account read model. Each batch of rows is
 * written in the same transaction as the checkpoint that follows it, and an event at or below a
 * row's revision is skipped: a restart at any moment neither loses nor double-applies an event.
 * Rows are the fold of the domain's own `evolve`, so the read model cannot disagree with a replay.
 */
export class AccountProjection {
  private readonly advanced = new EventEmitter();
  private subscription: AllSubscription | null = null;
  private stopping: Promise<void> = Promise.resolve();
  /** start() was called, and stop() not since. */
  private following = false;
  /** waitFor calls in progress: they keep a subscription running while the projection is stopped. */
  private waiting = 0;
  /** A catchUp's listener, told of each batch it applies (a rebuild's progress). */
  private onBatch: ((batch: { position: Position; events: number }) => void) | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly codec: AccountEventCodec,
    private readonly rows: AccountRowCodec,
    private readonly options: ProjectionOptions,
  ) {
    this.advanced.setMaxListeners(0);
  }

  /** Follows the store in the background, through its subscription to the account streams. */
  start(): void {
    this.following = true;
    void this.subscribeWhileNeeded();
  }

  /** Whether it follows the store in the background: start() was called, and stop() not since. */
  get isFollowing(): boolean {
    return this.following;
  }

  /** Ends the background following. waitFor still catches up on demand, so requests in flight while the app drains are answered. */
  async stop(): Promise<void> {
    this.following = false;
    await this.subscribeWhileNeeded();
  }

  /** Resolves once the read model has applied every event up to `position`. */
  async waitFor(position: Position, timeoutMs = 10_000): Promise<void> {
    if ((await this.readModel.checkpoint()) >= position) return;
    const deadline = Date.now() + timeoutMs;
    this.waiting += 1;
    try {
      await this.subscribeWhileNeeded();
      while ((await this.readModel.checkpoint()) < position) {
        if (Date.now() > deadline) throw new ProjectionLagging(position);
        const tick = AbortSignal.timeout(25);
        await once(this.advanced, 'advanced', { signal: tick }).catch(() => undefined);
      }
    } finally {
      this.waiting -= 1;
      await this.subscribeWhileNeeded();
    }
  }

  /**
   * Resolves once the read model reflects every event stored so far, by any process: a read that
   * waits for this sees every write acknowledged before it (and a restarted app never answers 404
   * for an account its projection has not reached yet). The head is taken among the account streams:
   * a store whose subscription filters on the server (EventStoreDB) never hands over the others.
   */
  async waitForHead(timeoutMs?: number): Promise<void> {
    await this.waitFor(await this.store.headPosition([ACCOUNT_STREAM_PREFIX]), timeoutMs);
  }

  /** Applies everything the store holds, then returns (a rebuild in its own process); `onBatch` hears of each batch applied. */
  async catchUp(options: { onBatch?: (batch: { position: Position; events: number }) => void } = {}): Promise<void> {
    this.onBatch = options.onBatch ?? null;
    try {
      await this.waitForHead(Infinity);
    } finally {
      this.onBatch = null;
    }
  }

  /** Runs the subscription while the projection follows or someone waits, and stops it otherwise. */
  private async subscribeWhileNeeded(): Promise<void> {
    const needed = this.following || this.waiting > 0;
    if (needed && !this.subscription) {
      this.subscription = this.store.subscribeToAll(
        {
          from: () => this.readModel.checkpoint(),
          streamPrefixes: [ACCOUNT_STREAM_PREFIX],
          maxBatchSize: this.options.batchSize,
          pollIntervalMs: this.options.pollIntervalMs,
        },
        {
          handle: (chunk) => this.apply(chunk),
          // The subscription resubscribes from the checkpoint, which has not moved past what failed.
          onError: (error) => this.options.onError?.(error),
        },
      );
    } else if (!needed && this.subscription) {
      this.stopping = this.subscription.stop();
      this.subscription = null;
    }
    // Whoever asked for the stop, every caller that no longer needs it waits until it is over.
    if (!needed) await this.stopping;
  }

  /**
   * Applies a chunk from the stored checkpoint on. Another process sharing the read model may have
   * moved the checkpoint (into or past this chunk) since: then only what lies beyond it is applied,
   * and a lost compare-and-set means looking again.
   */
  private async apply({ events, position }: LogChunk): Promise<void> {
    for (;;) {
      const from = await this.readModel.checkpoint();
      if (position <= from) return;
      const beyond = events.filter((event) => event.position > from);
      if (await this.applyBatch(from, beyond, position)) {
        this.onBatch?.({ position, events: beyond.length });
        break;
      }
    }
    this.advanced.emit('advanced');
  }

  /** Writes the rows the events change and moves the checkpoint from `from` to `to`; false if another process moved it first. */
  private async applyBatch(from: Position, accountEvents: RecordedEvent[], to: Position): Promise<boolean> {
    const ids = [...new Set(accountEvents.map(accountIdOf))];
    const current = new Map<string, { account: Account | null; revision: bigint }>();
    for (const row of await this.readModel.getMany(ids)) current.set(row.id, { account: await this.rows.toAccount(row), revision: row.revision });

    const changed = new Set<string>();
    const redacted: string[] = [];
    for (const event of accountEvents) {
      const id = accountIdOf(event);
      const before = current.get(id) ?? { account: null, revision: -1n };
      if (event.revision <= before.revision) continue;
      const account = evolve(before.account, await this.codec.decode(id, event));
      current.set(id, { account, revision: event.revision });
      changed.add(id);
      if (event.type === ACCOUNT_REDACTED) redacted.push(id);
    }
    for (const id of redacted) await this.options.onRedacted?.(id);
    const rows: AccountRow[] = [];
    for (const id of changed) {
      const { account, revision } = current.get(id)!;
      if (account) rows.push(await this.rows.toRow(account, revision));
    }
    return this.readModel.commit(rows, from, to);
  }
}

const accountIdOf = (event: RecordedEvent) => event.stream.slice(ACCOUNT_STREAM_PREFIX.length);
