import { EventStore, Position } from '../../storage/event-store.port';
import { AccountProjection } from './account-projection';
import { AccountReadModel } from './account-read-model.port';

/** Another process holds the projection lease: a running service applies the projection. */
export class ProjectionBusy extends Error {
  constructor() {
    super('another process is applying the projection (a running service holds its lease): stop it, then rebuild');
    this.name = 'ProjectionBusy';
  }
}

export interface RebuildProgress {
  /** Position reached in the global log, of `head` (the log's end when the rebuild started). */
  position: Position;
  head: Position;
  events: number;
}

export interface RebuildResult {
  events: number;
  seconds: number;
}


/**
 * Throws the read model away and folds it again from the first event, with the projection the
 * service runs: the rows are by construction what a replay yields. It holds the projection lease
 * from before the reset to the end, so no running service can apply events in between (one that
 * had applied past the reset would leave rows missing).
 */
export class ReadModelRebuild {
  constructor(
    private readonly store: EventStore,
    private readonly readModel: AccountReadModel,
    private readonly projection: AccountProjection,
  ) {}

  async rebuild(onProgress?: (progress: RebuildProgress) => void): Promise<RebuildResult> {
    const lease = await this.readModel.tryAcquireProjectionLease();
    if (!lease) throw new ProjectionBusy();
    try {
      const started = process.hrtime.bigint();
      const head = await this.store.headPosition();
      await this.readModel.reset();
      let events = 0;
      await this.projection.catchUp({
        lease,
        onBatch: (batch) => {
          events += batch.events;
          onProgress?.({ position: batch.position, head, events });
        },
      });
      return { events, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    } finally {
      await lease.release();
    }
  }
}
