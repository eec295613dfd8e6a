// `npm run bench` (`-- --quick` for a short run): the service in its own process, built (dist/),
// on a fresh DATA_DIR, loaded by autocannon at 50 connections route by route, each run flanked by
// runs against a bare NestJS app (bench/bare-app.ts) so that every ratio is measured in the same
// minute on the same machine; then projection lag, event-loop delay, fsyncs per create, peak RSS
// and `rebuild`; then all of it again on PostgreSQL when one answers. Writes bench/results.json and
// prints markdown tables. Measured, never asserted: nothing here is part of `npm test`.
//
// The other benchmark, bench/list-and-lookup.ts (read-model queries at 1,000 and 1,000,000
// accounts), runs on its own: npx ts-node --transpile-only bench/list-and-lookup.ts
import { Command } from 'commander';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  AccountPool,
  BASE,
  bareSpec,
  CONNECTIONS,
  createBody,
  load,
  LoadFigures,
  median,
  percentile,
  sampleProjectionLag,
  ScenarioName,
  SCENARIOS,
  scrapeMetric,
} from './http-load';
import { freshDatabase, postgresUnavailable } from './postgres';
import { ROOT, sleep, startNode, Started } from './processes';
import { benchRebuild, RebuildFigures } from './rebuild';
import { markdownTables } from './report';
import { BackendResult, Plan, Results, Row, RunFigures, TARGETS } from './figures';

const QUICK: Plan = { quick: true, rounds: 1, bareSeconds: 1, serviceSeconds: 2.5, warmupSeconds: 0.5, lagSeconds: 4, lagSampleMs: 20, fsyncCreates: 150, rebuildEvents: 10_000, poolSize: 150 };
const FULL: Plan = { quick: false, rounds: 3, bareSeconds: 4, serviceSeconds: 6, warmupSeconds: 2, lagSeconds: 10, lagSampleMs: 20, fsyncCreates: 500, rebuildEvents: 100_000, poolSize: 500 };

const startedAt = Date.now();
const log = (line: string) => console.log(line);
const elapsed = () => `${Math.round((Date.now() - startedAt) / 1000)} s`;
const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(1));

async function main() {
  const options = new Command('bench')
    .description("The service's throughput and latency against a bare NestJS app, projection lag, event-loop delay, fsyncs, RSS and rebuild")
    .option('--quick', 'short loads (a few seconds each), one round, rebuild at 10,000 events: under 2 minutes')
    .option('--no-postgres', 'the embedded default only')
    .option('--out <file>', 'where the results go', join(ROOT, 'bench', 'results.json'))
    .option('--print <file>', 'measure nothing: print the tables of a results file written earlier')
    .parse()
    .opts<{ quick?: boolean; postgres: boolean; out: string; print?: string }>();
  if (options.print) return log(markdownTables(JSON.parse(readFileSync(options.print, 'utf8')) as Results));
  const plan = options.quick ? QUICK : FULL;
  ensureBuilt();
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${process.platform} ${release()}`,
    // The machine may be shared: other work during the run shows here (ratios are measured within the run).
    loadAverage: { start: loadavg()[0], end: NaN },
  };
  log(`machine: ${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.os}`);
  log(
    plan.quick
      ? `QUICK run: ${plan.serviceSeconds} s per service load, ${plan.bareSeconds} s per bare load, ${plan.rounds} round, rebuild at ${plan.rebuildEvents.toLocaleString('en')} events. Indicative only: the full run (npm run bench) is the reference.`
      : `full run: ${plan.rounds} rounds of ${plan.serviceSeconds} s per service load and ${plan.bareSeconds} s per bare load, rebuild at ${plan.rebuildEvents.toLocaleString('en')} events.`,
  );

  const bare = await startNode('bare app', ['-r', 'ts-node/register/transpile-only', 'bench/bare-app.ts'], { NODE_ENV: 'production' }, async (url) => (await fetch(`${url}/bare/x`)).ok);
  const results: Results = {
    date: new Date().toISOString(),
    quick: plan.quick,
    machine,
    plan: { ...plan, connections: CONNECTIONS },
    backends: [],
    skipped: [],
  };
  try {
    results.backends.push(await benchBackend('sqlite', 'SQLite (embedded default)', {}, bare, plan));
    const unavailable = options.postgres ? await postgresUnavailable() : 'left out (--no-postgres)';
    if (unavailable) {
      log(`PostgreSQL skipped: ${unavailable}`);
      results.skipped.push({ backend: 'postgres', reason: unavailable });
    } else {
      const database = await freshDatabase('http');
      const rebuildDatabase = await freshDatabase('rebuild');
      try {
        const env = { EVENT_STORE: 'postgres', READ_MODEL: 'postgres' };
        results.backends.push(
          await benchBackend('postgres', 'PostgreSQL (EVENT_STORE and READ_MODEL postgres)', env, bare, plan, { http: database.url, rebuild: rebuildDatabase.url }),
        );
      } finally {
        await database.drop();
        await rebuildDatabase.drop();
      }
    }
  } finally {
    await bare.stop();
  }

  results.machine.loadAverage.end = loadavg()[0];
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\n${markdownTables(results)}`);
  log(`\nwritten to ${options.out} in ${elapsed()}`);
}

/** Builds dist/ when any source file is newer than it: the service is measured as it runs in production. */
function ensureBuilt() {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const path = join(dir, entry.name);
      return Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  let builtAt = 0;
  try {
    builtAt = statSync(join(ROOT, 'dist', 'main.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtAt >= newest(join(ROOT, 'src'))) return log('dist/ is up to date with src/');
  log('building dist/ (npm run build)…');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

async function benchBackend(
  name: BackendResult['name'],
  title: string,
  storeEnv: Record<string, string>,
  bare: Started,
  plan: Plan,
  databases?: { http: string; rebuild: string },
): Promise<BackendResult> {
  const say = (line: string) => log(`[${name} ${elapsed()}] ${line}`);
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const rebuildDir = mkdtempSync(join(tmpdir(), `bench-${name}-rebuild-`));
  try {
    const apiKey = `sk_production_${randomBytes(24).toString('hex')}`;
    const env = {
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      ACCOUNTS_BOOTSTRAP_KEY: apiKey,
      // The limiter would answer 429 long before the service is at its limit.
      RATE_LIMIT_PER_MINUTE: '0',
      // No line per request: the bare app logs none either, and a log pipe is not what is measured.
      LOG_LEVEL: 'warn',
      LOG_REQUESTS: 'false',
      ...storeEnv,
      ...(databases ? { DATABASE_URL: databases.http } : {}),
    };
    const service = await startNode('service', ['dist/main.js'], env, async (url) => (await fetch(`${url}/health/ready`)).ok);
    say(`service started (pid ${service.pid}, DATA_DIR ${dataDir})`);
    const headers = { 'content-type': 'application/json', 'x-api-key': apiKey };
    const bareHeaders = { 'content-type': 'application/json' };
    const pool = new AccountPool(randomBytes(3).toString('hex'));
    let result: Omit<BackendResult, 'rebuild'>;
    try {
      await checkRoutes(service.url, bare.url, headers, pool);
      const runService = async (scenario: (typeof SCENARIOS)[number], seconds: number) => {
        const figures = await load({ url: service.url, headers, duration: seconds, ...scenario.spec(pool) });
        await settle(service.url);
        return figures;
      };
      const runBare = (kind: 'GET' | 'POST', seconds: number) => load({ url: bare.url, headers: bareHeaders, duration: seconds, ...bareSpec(kind) });

      say(`warming up (${plan.warmupSeconds} s per load)`);
      for (const kind of ['POST', 'GET'] as const) await runBare(kind, plan.warmupSeconds);
      // A quick run warms the create and the read paths only: the others share most of their code.
      for (const scenario of SCENARIOS.filter((scenario) => !plan.quick || scenario.name === 'create' || scenario.name === 'get')) {
        await runService(scenario, plan.warmupSeconds);
        if (scenario.name === 'create') await topUp(pool, service.url, headers, plan.poolSize);
      }

      const runs = new Map<ScenarioName, RunFigures[]>();
      const eventLoopP99: (number | null)[] = [];
      for (let round = 1; round <= plan.rounds; round++) {
        for (const kind of ['POST', 'GET'] as const) {
          const scenarios = SCENARIOS.filter((scenario) => scenario.bare === kind);
          let before = await runBare(kind, plan.bareSeconds);
          for (const scenario of scenarios) {
            // A scrape resets prom-client's event-loop histogram: the next one covers this run alone.
            if (scenario.name === 'create') await scrapeMetric(service.url, 'nodejs_eventloop_lag_p99_seconds');
            const figures = await runService(scenario, plan.serviceSeconds);
            if (scenario.name === 'create') {
              const p99 = await scrapeMetric(service.url, 'nodejs_eventloop_lag_p99_seconds');
              eventLoopP99.push(p99 === null ? null : p99 * 1000);
              await topUp(pool, service.url, headers, plan.poolSize);
            }
            const after = await runBare(kind, plan.bareSeconds);
            const bareRps = (before.rps + after.rps) / 2;
            const run: RunFigures = { ...figures, round, bareRps, ratio: figures.rps / bareRps };
            runs.set(scenario.name, [...(runs.get(scenario.name) ?? []), run]);
            say(
              `round ${round}/${plan.rounds} ${scenario.name}: ${fmt(run.rps)} req/s, p50 ${fmt(run.p50Ms)} ms, p99 ${fmt(run.p99Ms)} ms; ` +
                `bare ${kind} ${fmt(before.rps)}/${fmt(after.rps)} req/s → ${run.ratio.toFixed(2)}×${run.non2xx || run.errors || run.mismatches ? `; non-2xx ${run.non2xx}, errors ${run.errors}, mismatches ${run.mismatches}` : ''}`,
            );
            before = after;
          }
        }
      }
      const rows = SCENARIOS.map((scenario) => toRow(scenario, runs.get(scenario.name) ?? [], name === 'sqlite'));

      const createRps = rows.find((row) => row.scenario === 'create')!.rps;
      const asked = Math.max(1, Math.round(createRps / 2));
      say(`projection lag: creates at ${asked}/s (half the create throughput) for ${plan.lagSeconds} s, /health/ready read every ${plan.lagSampleMs} ms`);
      const lagLoad = load({ url: service.url, headers, duration: plan.lagSeconds, overallRate: asked, ...SCENARIOS[0].spec(pool) });
      const [lagFigures, lagSamples] = await Promise.all([lagLoad, sampleProjectionLag(service.url, lagLoad, plan.lagSampleMs)]);
      const projectionLag = {
        createsPerSecondAsked: asked,
        createsPerSecond: lagFigures.rps,
        samples: lagSamples.length,
        p50Ms: percentile(lagSamples, 50),
        p99Ms: percentile(lagSamples, 99),
        maxMs: lagSamples.length ? Math.max(...lagSamples) : null,
      };
      say(`projection lag p50 ${projectionLag.p50Ms} ms, p99 ${projectionLag.p99Ms} ms, max ${projectionLag.maxMs} ms over ${lagSamples.length} readings at ${fmt(lagFigures.rps)} creates/s`);

      const fsyncsPerCreate =
        name === 'postgres'
          ? { value: null, reason: "the fsyncs are the PostgreSQL server's (its WAL), not the service process's" }
          : await countFsyncs(service, pool, headers, plan.fsyncCreates);
      say(fsyncsPerCreate.value === null ? `fsyncs per create: skipped (${fsyncsPerCreate.reason})` : `fsyncs per create: ${fsyncsPerCreate.value.toFixed(2)} (${fsyncsPerCreate.fsyncs} over ${fsyncsPerCreate.creates} creates)`);

      const peakRssMb = service.peakRssMb();
      say(`peak RSS ${peakRssMb === null ? 'unknown' : `${peakRssMb.toFixed(0)} MB`}`);
      const worst = eventLoopP99.filter((value): value is number => value !== null);
      result = {
        name,
        title,
        rows,
        projectionLag,
        eventLoopDelayP99Ms: { worst: worst.length ? Math.max(...worst) : null, perRound: eventLoopP99 },
        fsyncsPerCreate,
        peakRssMb,
      };
    } finally {
      await service.stop();
    }

    say(`rebuild: seeding ${plan.rebuildEvents.toLocaleString('en')} events`);
    const rebuild = await benchRebuild(
      { NODE_ENV: 'production', DATA_DIR: rebuildDir, ...storeEnv, ...(databases ? { DATABASE_URL: databases.rebuild } : {}) },
      plan.rebuildEvents,
      say,
    );
    say(`rebuild: ${rebuild.events.toLocaleString('en')} events in ${rebuild.rebuildSeconds.toFixed(2)} s: ${rebuild.eventsPerSecond.toLocaleString('en')} events/s (whole CLI process ${rebuild.processSeconds.toFixed(1)} s)`);
    return { ...result, rebuild };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(rebuildDir, { recursive: true, force: true });
  }
}

/** One request of each kind before any load: a route that fails here would make every figure meaningless. */
async function checkRoutes(serviceUrl: string, bareUrl: string, headers: Record<string, string>, pool: AccountPool) {
  const externalId = pool.newExternalId();
  const created = await fetch(`${serviceUrl}${BASE}`, { method: 'POST', headers, body: createBody(externalId) });
  const body = (await created.json()) as { data?: { id?: string } };
  if (created.status !== 201 || !body.data?.id) throw new Error(`a create answered ${created.status}: ${JSON.stringify(body)}`);
  pool.accounts.push({ id: body.data.id, externalId, status: 'pending' });
  const lookup = (await (await fetch(`${serviceUrl}${BASE}?filter%5Bexternal_id%5D=${externalId}`, { headers })).json()) as { data?: unknown[] };
  if (lookup.data?.length !== 1) throw new Error(`a lookup by external_id found ${JSON.stringify(lookup)}`);
  const barePost = await fetch(`${bareUrl}/bare`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: createBody('x') });
  if (barePost.status !== 201) throw new Error(`the bare POST answered ${barePost.status}`);
}

/**
 * More accounts than connections (plan.poolSize), so that requests in flight, round-robin over the
 * pool, rarely share an account. Created unmeasured when the creates measured made too few.
 */
async function topUp(pool: AccountPool, url: string, headers: Record<string, string>, wanted: number) {
  if (pool.accounts.length >= wanted) return;
  // autocannon refuses fewer requests than connections: a few accounts more do no harm.
  await load({ url, headers, amount: Math.max(wanted - pool.accounts.length, CONNECTIONS), ...SCENARIOS[0].spec(pool) });
  await settle(url);
}

/**
 * Waits until the service has answered what autocannon left in flight when it stopped (its event
 * loop reaches a probe queued after them), so that the next run, the bare app's, has the CPU alone.
 */
async function settle(url: string) {
  await fetch(`${url}/health/live`);
  await sleep(100);
}

function toRow(scenario: (typeof SCENARIOS)[number], runs: RunFigures[], withTarget: boolean): Row {
  const sum = (pick: (run: RunFigures) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const statuses: Record<string, number> = {};
  for (const run of runs) for (const [status, count] of Object.entries(run.statuses)) statuses[status] = (statuses[status] ?? 0) + count;
  const row: Row = {
    scenario: scenario.name,
    label: scenario.label,
    bare: scenario.bare,
    rps: median(runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    mismatches: sum((run) => run.mismatches),
    statuses,
    bareRps: median(runs.map((run) => run.bareRps)),
    ratio: median(runs.map((run) => run.ratio)),
    target: null,
    rounds: runs,
  };
  const target = withTarget ? TARGETS[scenario.name] : undefined;
  if (target) row.target = { ...target, met: row.ratio >= target.ratio && (target.p99Ms === undefined || row.p99Ms <= target.p99Ms) };
  return row;
}

/**
 * fsync and fdatasync calls of the service process (every thread) during a fixed number of creates
 * at 50 connections, counted by strace: per create, the projection's own writes included.
 */
async function countFsyncs(service: Started, pool: AccountPool, headers: Record<string, string>, creates: number): Promise<BackendResult['fsyncsPerCreate']> {
  if (spawnSync('strace', ['-V']).status !== 0) return { value: null, reason: 'strace is not installed' };
  const dir = mkdtempSync(join(tmpdir(), 'bench-strace-'));
  const out = join(dir, 'strace.txt');
  try {
    const strace: ChildProcess = spawn('strace', ['-f', '-c', '-e', 'trace=fsync,fdatasync', '-o', out, '-p', String(service.pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => strace.once('exit', (code) => resolve(code)));
    const attached = new Promise<boolean>((resolve) => {
      strace.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (/attached/.test(stderr)) resolve(true);
      });
      void exited.then(() => resolve(false));
      setTimeout(() => resolve(false), 5000);
    });
    if (!(await attached)) {
      strace.kill('SIGKILL');
      return { value: null, reason: `strace could not attach: ${stderr.trim().split('\n').at(-1) ?? 'no answer'}` };
    }
    await sleep(300);
    const figures = await load({ url: service.url, headers, amount: creates, ...SCENARIOS[0].spec(pool) });
    // The projection applies the last creates just after their answers: their fsyncs count too.
    await sleep(500);
    strace.kill('SIGINT');
    await exited;
    let fsyncs = 0;
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const match = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)\s*$/.exec(line);
      if (match) fsyncs += Number(match[1]);
    }
    const succeeded = figures.responses - figures.non2xx;
    return { value: fsyncs / succeeded, fsyncs, creates: succeeded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

