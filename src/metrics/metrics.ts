import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ProjectionReading } from '../accounts/projection/projection-lag';

// The service's Prometheus metrics, one registry per app (a test process runs several apps).
// Labels take values from small fixed sets only: methods, route patterns, statuses, command names,
// outcomes (error codes). Never a path, a key, an id or anything a client wrote.

/** A route label for requests no route answers (unknown paths, static files). */
export const NO_ROUTE = 'none';

export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its answer, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly commands = new Counter({
    name: 'accounts_commands_total',
    help: 'Account commands run, by command and outcome (ok, or the error code answered)',
    labelNames: ['command', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly commandDuration = new Histogram({
    name: 'accounts_command_duration_seconds',
    help: 'Time to run an account command, retries included, by command and outcome',
    labelNames: ['command', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  private readonly appendDuration = new Histogram({
    name: 'event_store_append_duration_seconds',
    help: 'Time for the event store to append (durably) one batch, by outcome (ok, conflict, error)',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly appendSize = new Histogram({
    name: 'event_store_append_batch_size',
    help: 'Events in one append',
    buckets: [1, 2, 3, 5, 10, 20, 50],
    registers: [this.registry],
  });
  private readonly idempotencyReplays = new Counter({
    name: 'idempotency_replays_total',
    help: 'Requests answered with the stored answer of an earlier request with the same Idempotency-Key',
    registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'rate_limited_requests_total',
    help: 'Requests refused with 429 because their API key went over RATE_LIMIT_PER_MINUTE',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text, as Prometheus scrapes it. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  observeRequest(method: string, route: string | null, status: number, seconds: number): void {
    const labels = { method, route: route ?? NO_ROUTE, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  observeCommand(command: string, outcome: string, seconds: number): void {
    this.commands.inc({ command, outcome });
    this.commandDuration.observe({ command, outcome }, seconds);
  }

  observeAppend(events: number, outcome: 'ok' | 'conflict' | 'error', seconds: number): void {
    this.appendDuration.observe({ outcome }, seconds);
    this.appendSize.observe(events);
  }

  /** For the idempotency layer: a request answered by replaying a stored answer. */
  recordIdempotencyReplay(): void {
    this.idempotencyReplays.inc();
  }

  recordRateLimited(): void {
    this.rateLimited.inc();
  }

  /**
   * Projection gauges, read at each scrape. A failed reading (a store unreachable) leaves them
   * without a sample rather than failing the scrape: /health/ready says which store is down.
   */
  watchProjection(read: () => Promise<ProjectionReading>): void {
    const gauge = (name: string, help: string, value: (reading: ProjectionReading) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          this.reset();
          const reading = await read().catch(() => null);
          if (reading) this.set(value(reading));
        },
      });
    gauge('accounts_projection_position', "The read model's checkpoint in the event store's log (a sequence number, or EventStoreDB's commit position)", (r) => r.checkpointProgress);
    gauge('accounts_projection_head_position', "The event store's last account event, in the same units as accounts_projection_position", (r) => r.headProgress);
    gauge('accounts_projection_lag_seconds', 'Age of the oldest event the read model has not applied yet; 0 when it is caught up', (r) => r.lagMs / 1000);
    gauge('accounts_projection_following', '1 while the projection follows the event store, 0 once stopped', (r) => (r.following ? 1 : 0));
  }
}
