import { EventStore, Position, progressOf } from '../../storage/event-store.port';
import { ACCOUNT_STREAM_PREFIX } from '../application/account-repository';
import { AccountProjection } from './account-projection';
import { AccountReadModel } from './account-read-model.port';

export interface ProjectionReading {
  /** The read model's checkpoint, and the event store's head among the account streams. */
  checkpoint: Position;
  head: Position;
  /** progressOf each (a sequence number, or EventStoreDB's commit position): for gauges. */
  checkpointProgress: number;
  headProgress: number;
  /** How long ago the store recorded the oldest event the read model has not applied yet; 0 when it has them all. */
  lagMs: number;
  /** Whether the projection follows the store in the background (false once stopped). */
  following: boolean;
}

/**
 * How far the read model is behind the event store, in time: the age of the oldest event it has
 * not applied, which means the same on every adapter (positions count events on SQLite and
 * PostgreSQL, bytes on EventStoreDB). For /health/ready and /metrics; each reading costs a head
 * query, a checkpoint query and, when behind, one event read.
 */
export class ProjectionLag {
  private pending: Promise<ProjectionReading> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly projection: AccountProjection,
  ) {}

  /** Readers asking at the same time (a scrape reads several gauges at once) share one reading. */
  read(): Promise<ProjectionReading> {
    this.pending ??= this.measure().finally(() => (this.pending = null));
    return this.pending;
  }

  private async measure(): Promise<ProjectionReading> {
    const [head, checkpoint] = await Promise.all([this.store.headPosition([ACCOUNT_STREAM_PREFIX]), this.readModel.checkpoint()]);
    let lagMs = 0;
    if (checkpoint < head) {
      // The first event after the checkpoint, of any stream: at least as old as the first unapplied account event.
      const [next] = await this.store.readAll(checkpoint, 1);
      // Wall-clock time, like the store's recordedAt: never the app's clock, which tests may fix.
      if (next) lagMs = Math.max(0, Date.now() - next.recordedAt.getTime());
    }
    return {
      checkpoint,
      head,
      checkpointProgress: progressOf(checkpoint),
      headProgress: progressOf(head),
      lagMs,
      following: this.projection.isFollowing,
    };
  }
}
