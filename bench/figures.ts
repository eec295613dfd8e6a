// What `npm run bench` measures (written to bench/results.json), and the targets (issue 10).
import { RebuildFigures } from './rebuild';
import { LoadFigures, ScenarioName } from './http-load';

export interface Plan {
  quick: boolean;
  /** Rounds of the alternating sequence; each figure is the median over rounds. */
  rounds: number;
  bareSeconds: number;
  serviceSeconds: number;
  /** Unmeasured load first, so that the JIT and the stores' caches are warm. */
  warmupSeconds: number;
  lagSeconds: number;
  lagSampleMs: number;
  fsyncCreates: number;
  rebuildEvents: number;
  /** At least this many accounts for the reads and updates (more than the 50 connections). */
  poolSize: number;
}

/** The targets (issue 10), for the embedded default. */
export const TARGETS: Partial<Record<ScenarioName, { ratio: number; p99Ms?: number }>> = {
  create: { ratio: 0.5, p99Ms: 100 },
  get: { ratio: 0.8 },
  patch: { ratio: 0.4 },
  status: { ratio: 0.4 },
};
export const EVENT_LOOP_P99_TARGET_MS = 20;
export const LAG_P99_TARGET_MS = 10;
export const REBUILD_TARGET = 100_000;

export interface RunFigures extends LoadFigures {
  round: number;
  bareRps: number;
  ratio: number;
}

export interface Row {
  scenario: ScenarioName;
  label: string;
  bare: 'GET' | 'POST';
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  mismatches: number;
  statuses: Record<string, number>;
  bareRps: number;
  ratio: number;
  target: { ratio: number; p99Ms?: number; met: boolean } | null;
  rounds: RunFigures[];
}

export interface BackendResult {
  name: 'sqlite' | 'postgres';
  title: string;
  rows: Row[];
  projectionLag: { createsPerSecondAsked: number; createsPerSecond: number; samples: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
  /** prom-client's monitorEventLoopDelay percentiles (nodejs_eventloop_lag_p99_seconds), per create run. */
  eventLoopDelayP99Ms: { worst: number | null; perRound: (number | null)[] };
  fsyncsPerCreate: { value: number; fsyncs: number; creates: number } | { value: null; reason: string };
  peakRssMb: number | null;
  rebuild: RebuildFigures;
}

export interface Results {
  date: string;
  quick: boolean;
  machine: { cpus: number; model: string; memoryGb: number; node: string; os: string; /** 1-minute load average at the start and the end of the run. */ loadAverage: { start: number; end: number } };
  plan: Plan & { connections: number };
  backends: BackendResult[];
  skipped: { backend: string; reason: string }[];
}

