import { EventEmitter, once } from 'node:events';
import { EventStore, Position, RecordedEvent } from '../../storage/event-store.port';
import { ACCOUNT_STREAM_PREFIX } from '../application/account-repository';
import { AccountEventCodec } from '../application/account-event-codec';
import { Account } from '../domain/account';
import { evolve } from '../domain/evolve';
import { ACCOUNT_REDACTED } from '../domain/events';
import { AccountReadModel, AccountRow } from './account-read-model.port';
import { AccountRowCodec } from './account-row-codec';

export interface ProjectionOptions {
  batchSize: number;
  /** How often to look for events written by other processes sharing the store. */
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
  private running: Promise<void> | null = null;
  private pending = false;
  private unsubscribe: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly codec: AccountEventCodec,
    private readonly rows: AccountRowCodec,
    private readonly options: ProjectionOptions,
  ) {
    this.advanced.setMaxListeners(0);
  }

  /** Follows the store in the background: on every local append, and by polling for other processes. */
  start(): void {
    this.unsubscribe = this.store.onAppended(() => this.trigger());
    this.timer = setInterval(() => this.trigger(), this.options.pollIntervalMs);
    this.timer.unref();
    this.trigger();
  }

  /** Ends the background following. waitFor still catches up on demand, so requests in flight while the app drains are answered. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Resolves once the read model has applied every event up to `position`. */
  async waitFor(position: Position, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.readModel.checkpoint()) < position) {
      if (Date.now() > deadline) throw new ProjectionLagging(position);
      this.trigger();
      const tick = AbortSignal.timeout(25);
      await once(this.advanced, 'advanced', { signal: tick }).catch(() => undefined);
    }
  }

  /**
   * Resolves once the read model reflects every event stored so far, by any process: a read that
   * waits for this sees every write acknowledged before it (and a restarted app never answers 404
   * for an account its projection has not reached yet).
   */
  async waitForHead(timeoutMs?: number): Promise<void> {
    await this.waitFor(await this.store.headPosition(), timeoutMs);
  }

  /** Applies everything the store holds beyond the checkpoint; `onBatch` hears of each batch (a rebuild's progress). */
  async catchUp(options: { batchSize?: number; onBatch?: (batch: { position: Position; events: number }) => void } = {}): Promise<void> {
    for (;;) {
      const from = await this.readModel.checkpoint();
      const events = await this.store.readAll(from, options.batchSize ?? this.options.batchSize);
      if (events.length === 0) return;
      await this.applyBatch(from, events);
      this.advanced.emit('advanced');
      options.onBatch?.({ position: events.at(-1)!.position, events: events.length });
    }
  }

  private trigger(): void {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = this.catchUp()
      .catch((error: unknown) => {
        // Retried on the next trigger; the checkpoint has not moved past what failed.
        this.options.onError?.(error);
      })
      .finally(() => {
        this.running = null;
        if (this.pending) {
          this.pending = false;
          this.trigger();
        }
      });
  }

  private async applyBatch(from: Position, events: RecordedEvent[]): Promise<void> {
    const accountEvents = events.filter((event) => event.stream.startsWith(ACCOUNT_STREAM_PREFIX));
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
    // false: another process moved the checkpoint first; the next round reads from there.
    await this.readModel.commit(rows, from, events.at(-1)!.position);
  }
}

const accountIdOf = (event: RecordedEvent) => event.stream.slice(ACCOUNT_STREAM_PREFIX.length);
