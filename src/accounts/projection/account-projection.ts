import { EventEmitter, once } from 'node:events';
import { EventStore, LogChunk, Position, RecordedEvent } from '../../storage/event-store.port';
import { ACCOUNT_STREAM_PREFIX } from '../application/account-repository';
import { AccountEventCodec } from '../application/account-event-codec';
import { Account, PersonalField } from '../domain/account';
import { evolve, personalFieldsSetBy } from '../domain/evolve';
import { ACCOUNT_REDACTED, AccountEvent } from '../domain/events';
import { Alarm } from '../../storage/subscription-support';
import { FreshRead } from '../../kernel/fresh-read';
import { AccountReadModel, ProjectionLease, ProjectionLeaseLost } from './account-read-model.port';
import { AccountRowCodec } from './account-row-codec';

export interface ProjectionOptions {
  batchSize: number;
  /** How often a store that cannot push looks for events written by other processes. */
  pollIntervalMs: number;
  /** How often a process that does not hold the projection lease tries to take it (1 s by default). */
  leaseRetryMs?: number;
  /** A batch that failed (it is tried again), or an attempt to take the lease that failed (likewise). */
  onError?: (error: unknown, during: 'batch' | 'lease') => void;
  /** This process took the lease and applies the projection from now on; or stopped: it gave the lease up, or lost it. */
  onLease?: (change: 'acquired' | 'released' | 'lost') => void;
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

const DEFAULT_LEASE_RETRY_MS = 1000;
/** How often a waiting read looks at the shared checkpoint when no batch applied here tells it sooner. */
const CHECKPOINT_TICK_MS = 25;
/** The runner's sleep while it holds the lease: anything that matters wakes it sooner. */
const IDLE_MS = 60_000;

/**
 * A catch-up subscriber of the global log that keeps the account read model. Each batch of rows is
 * written in the same transaction as the checkpoint that follows it, and an event at or below a
 * row's revision is skipped: a restart at any moment neither loses nor double-applies an event.
 * Rows are the fold of the domain's own `evolve`, so the read model cannot disagree with a replay.
 *
 * Of all the processes sharing the read model, only the one holding its projection lease applies
 * events; the others' reads wait on the shared checkpoint, and they try for the lease every
 * `leaseRetryMs`, so one of them takes over when the holder stops or dies.
 */
export class AccountProjection {
  private readonly advanced = new EventEmitter();
  /** Wakes the runner: it is no longer needed, or its lease was lost. */
  private readonly nudge = new Alarm();
  /** The loop that takes the lease and applies events while it holds it; null when not needed. */
  private runner: Promise<void> | null = null;
  /** start() was called, and stop() not since. */
  private following = false;
  /** waitFor calls in progress: they keep the runner going while the projection is stopped. */
  private waiting = 0;
  /** A lease the caller holds (a rebuild's): the runner uses it instead of taking one, and leaves it held. */
  private lent: ProjectionLease | null = null;
  /** One read of the checkpoint, shared by every waiter of the moment. */
  private observation: Promise<Position> | null = null;
  /** A catchUp's listener, told of each batch it applies (a rebuild's progress). */
  private onBatch: ((batch: { position: Position; events: number }) => void) | null = null;
  /**
   * The head of the account streams and the checkpoint, each read once for all the reads of the
   * moment that wait on them, by a read that started after each caller asked (read-your-writes).
   */
  private readonly head = new FreshRead(() => this.store.headPosition([ACCOUNT_STREAM_PREFIX]));
  private readonly checkpointNow = new FreshRead(() => this.readModel.checkpoint());

  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly codec: AccountEventCodec,
    private readonly rows: AccountRowCodec,
    private readonly options: ProjectionOptions,
  ) {
    this.advanced.setMaxListeners(0);
  }

  /** Follows the store in the background: applies its events whenever this process holds the lease. */
  start(): void {
    this.following = true;
    void this.settle();
  }

  /** Whether it follows the store in the background: start() was called, and stop() not since. */
  get isFollowing(): boolean {
    return this.following;
  }

  /**
   * Ends the background following and gives the lease up once no read waits. Reads in flight while
   * the app drains are still answered: they keep it, or wait for whichever process holds it.
   */
  async stop(): Promise<void> {
    this.following = false;
    await this.settle();
  }

  /**
   * Resolves once the read model has applied every event up to `position`, whoever applies them:
   * this process if it holds (or can take) the lease, else the one that holds it. A pure wait on the
   * shared checkpoint otherwise, never a second applier.
   */
  async waitFor(position: Position, timeoutMs = 10_000): Promise<void> {
    if ((await this.checkpointNow.get()) >= position) return;
    const deadline = Date.now() + timeoutMs;
    this.waiting += 1;
    try {
      void this.settle();
      while ((await this.observeCheckpoint()) < position) {
        if (this.lent?.lost.aborted) throw new ProjectionLeaseLost();
        if (Date.now() > deadline) throw new ProjectionLagging(position);
      }
    } finally {
      this.waiting -= 1;
      await this.settle();
    }
  }

  /**
   * Resolves once the read model reflects every event stored so far, by any process: a read that
   * waits for this sees every write acknowledged before it (and a restarted app never answers 404
   * for an account its projection has not reached yet). The head is taken among the account streams:
   * a store whose subscription filters on the server (EventStoreDB) never hands over the others.
   */
  async waitForHead(timeoutMs?: number): Promise<void> {
    await this.waitFor(await this.head.get(), timeoutMs);
  }

  /**
   * Applies everything the store holds, then returns (a rebuild in its own process); `onBatch` hears
   * of each batch applied. Under `lease`, which the caller holds and keeps, it applies with that one
   * and fails if it is lost; otherwise it waits until it can take the lease, or another holder is done.
   */
  async catchUp(options: { onBatch?: (batch: { position: Position; events: number }) => void; lease?: ProjectionLease } = {}): Promise<void> {
    // A lent lease is only lent to a projection that is not running: the lender releases it afterwards.
    if (options.lease && this.runner) throw new Error('catchUp under a lease needs the projection stopped');
    this.onBatch = options.onBatch ?? null;
    this.lent = options.lease ?? null;
    try {
      await this.waitForHead(Infinity);
    } finally {
      this.onBatch = null;
      this.lent = null;
    }
  }

  private needed(): boolean {
    return this.following || this.waiting > 0;
  }

  /** Starts the runner when it is needed; otherwise tells it to end, and resolves once it has. */
  private settle(): Promise<void> {
    if (this.needed()) {
      if (!this.runner) {
        const runner = this.run();
        this.runner = runner;
        // Needed again while it was ending: start another.
        void runner.finally(() => {
          if (this.runner === runner) this.runner = null;
          if (this.needed()) void this.settle();
        });
      }
      return Promise.resolve();
    }
    this.nudge.wake();
    return this.runner ?? Promise.resolve();
  }

  /** While needed: takes the lease (or tries again every leaseRetryMs), and applies events while it holds it. */
  private async run(): Promise<void> {
    while (this.needed()) {
      const held = await this.takeLease();
      try {
        if (held) await this.applyWhileHeld(held.lease, held.own);
      } catch (error) {
        // Stopping the subscription failed: the lease is given up all the same; report, and go on.
        this.options.onError?.(error, 'lease');
      }
      if (!held) await this.nudge.wait(this.options.leaseRetryMs ?? DEFAULT_LEASE_RETRY_MS);
    }
  }

  private async takeLease(): Promise<{ lease: ProjectionLease; own: boolean } | null> {
    if (this.lent) return this.lent.lost.aborted ? null : { lease: this.lent, own: false };
    try {
      const lease = await this.readModel.tryAcquireProjectionLease();
      return lease && { lease, own: true };
    } catch (error) {
      this.options.onError?.(error, 'lease');
      return null;
    }
  }

  /** Runs the subscription until the projection is no longer needed or the lease is lost; then gives up a lease of its own. */
  private async applyWhileHeld(lease: ProjectionLease, own: boolean): Promise<void> {
    if (own) this.options.onLease?.('acquired');
    const subscription = this.store.subscribeToAll(
      {
        from: () => this.readModel.checkpoint(),
        streamPrefixes: [ACCOUNT_STREAM_PREFIX],
        maxBatchSize: this.options.batchSize,
        pollIntervalMs: this.options.pollIntervalMs,
      },
      {
        handle: (chunk) => this.apply(chunk, lease),
        // The subscription resubscribes from the checkpoint, which has not moved past what failed.
        // A lost lease is not a failure to report: the runner stops the subscription.
        onError: (error) => lease.lost.aborted || this.options.onError?.(error, 'batch'),
      },
    );
    const wake = () => this.nudge.wake();
    lease.lost.addEventListener('abort', wake);
    try {
      while (this.needed() && !lease.lost.aborted) await this.nudge.wait(IDLE_MS);
    } finally {
      lease.lost.removeEventListener('abort', wake);
      try {
        await subscription.stop();
      } finally {
        if (own) {
          const lost = lease.lost.aborted;
          await lease.release().catch((error: unknown) => this.options.onError?.(error, 'lease'));
          this.options.onLease?.(lost ? 'lost' : 'released');
        }
      }
    }
  }

  /** The checkpoint once a batch applied here or CHECKPOINT_TICK_MS says it may have moved: one read for every waiter of that moment. */
  private observeCheckpoint(): Promise<Position> {
    this.observation ??= (async () => {
      try {
        await once(this.advanced, 'advanced', { signal: AbortSignal.timeout(CHECKPOINT_TICK_MS) }).catch(() => undefined);
        return await this.readModel.checkpoint();
      } finally {
        this.observation = null;
      }
    })();
    return this.observation;
  }

  /**
   * Applies a chunk from the stored checkpoint on. The checkpoint may have moved into or past this
   * chunk since (a previous holder's last batch): then only what lies beyond it is applied, and a
   * lost compare-and-set means looking again.
   */
  private async apply({ events, position }: LogChunk, lease: ProjectionLease): Promise<void> {
    for (;;) {
      const from = await this.readModel.checkpoint();
      if (position <= from) return;
      const beyond = events.filter((event) => event.position > from);
      if (await this.applyBatch(from, beyond, position, lease)) {
        this.onBatch?.({ position, events: beyond.length });
        break;
      }
    }
    this.advanced.emit('advanced');
  }

  /** Writes the rows the events change and moves the checkpoint from `from` to `to`; false if another process moved it first. */
  private async applyBatch(from: Position, accountEvents: RecordedEvent[], to: Position, lease: ProjectionLease): Promise<boolean> {
    const ids = [...new Set(accountEvents.map(accountIdOf))];
    // Rows and events are opened, and rows sealed, all at once rather than one after the other: the
    // data keys they need are then fetched together (one batch of the key store's, not one each).
    const stored = await this.readModel.getMany(ids);
    const current = new Map<string, { account: Account | null; revision: bigint }>();
    const accounts = await Promise.all(stored.map((row) => this.rows.toAccount(row)));
    stored.forEach((row, i) => current.set(row.id, { account: accounts[i], revision: row.revision }));
    const applies = eventsToApply(accountEvents, current);
    const decoded = await this.decode(accountEvents, applies);

    const changed = new Set<string>();
    const redacted: string[] = [];
    for (const [i, event] of accountEvents.entries()) {
      if (!applies[i]) continue;
      const id = accountIdOf(event);
      current.set(id, { account: evolve(current.get(id)?.account ?? null, decoded[i]), revision: event.revision });
      changed.add(id);
      if (event.type === ACCOUNT_REDACTED) redacted.push(id);
    }
    for (const id of redacted) await this.options.onRedacted?.(id);
    const rows = await Promise.all(
      [...changed].flatMap((id) => {
        const { account, revision } = current.get(id)!;
        return account ? [this.rows.toRow(account, revision)] : [];
      }),
    );
    return this.readModel.commit(rows, from, to, lease);
  }

  /**
   * The batch's events to fold, opened only where the fold keeps what they seal: an event whose
   * personal fields are all set again by a later event of the batch (or that seals only a status
   * change's reason, which no state holds) is folded unopened. Its fields read as empty for a moment,
   * and the later event sets them: the rows are those of opening every event, for a fraction of the
   * decryptions when an account changes many times in one batch (a rebuild).
   */
  private decode(accountEvents: RecordedEvent[], applies: boolean[]): Promise<AccountEvent[]> {
    const unopened = accountEvents.map((event) => this.codec.decodeUnopened(event));
    const setLater = new Map<string, Set<PersonalField>>();
    const opens = accountEvents.map(() => false);
    for (let i = accountEvents.length - 1; i >= 0; i--) {
      if (!applies[i]) continue;
      const id = accountIdOf(accountEvents[i]);
      const later = setLater.get(id) ?? new Set<PersonalField>();
      setLater.set(id, later);
      for (const field of personalFieldsSetBy(unopened[i])) {
        if (!later.has(field)) opens[i] = true;
        later.add(field);
      }
    }
    return Promise.all(accountEvents.map((event, i) => (opens[i] ? this.codec.decode(accountIdOf(event), event) : unopened[i])));
  }
}

/** Which events the rows do not hold yet: those past their row's revision (a restart may hand over some it does). */
function eventsToApply(accountEvents: RecordedEvent[], rows: Map<string, { revision: bigint }>): boolean[] {
  const reached = new Map([...rows].map(([id, { revision }]) => [id, revision]));
  return accountEvents.map((event) => {
    const id = accountIdOf(event);
    if (event.revision <= (reached.get(id) ?? -1n)) return false;
    reached.set(id, event.revision);
    return true;
  });
}

const accountIdOf = (event: RecordedEvent) => event.stream.slice(ACCOUNT_STREAM_PREFIX.length);
