// The markdown tables `npm run bench` prints (and the README shows).
import { EVENT_LOOP_P99_TARGET_MS, LAG_P99_TARGET_MS, REBUILD_TARGET, Results } from './figures';

const int = (n: number) => Math.round(n).toLocaleString('en');
const ms = (n: number | null) => (n === null ? 'n/a' : n < 10 ? n.toFixed(1) : int(n));
const mark = (met: boolean) => (met ? 'met' : '**missed**');
const MIN_LAG_READINGS = 100;

function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

export function markdownTables(results: Results): string {
  const { machine } = results;
  const heading =
    `${results.quick ? 'Quick run (`--quick`: short loads, indicative only)' : 'Full run'}, ${results.date.slice(0, 10)}: ` +
    `${machine.cpus} × ${machine.model}, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.os}, load average ${machine.loadAverage.start.toFixed(1)} at the start, ${machine.loadAverage.end.toFixed(1)} at the end. ` +
    `${results.plan.connections} connections; ${results.plan.rounds} round${results.plan.rounds === 1 ? '' : 's'} of ${results.plan.serviceSeconds} s per load (median), ` +
    `each run between two runs of the bare NestJS route (${results.plan.bareSeconds} s each).`;

  const requests = table(
    ['store', 'request', 'req/s', 'p50 ms', 'p99 ms', 'bare route req/s', '× bare', 'non-2xx', 'target (issue 10)'],
    results.backends.flatMap((backend) =>
      backend.rows.map((row) => [
        backend.name,
        row.label,
        int(row.rps),
        ms(row.p50Ms),
        ms(row.p99Ms),
        `${int(row.bareRps)} (${row.bare})`,
        `${row.ratio.toFixed(2)}×`,
        String(row.non2xx + row.errors + row.mismatches),
        row.target ? `≥ ${row.target.ratio}×${row.target.p99Ms !== undefined ? `, p99 ≤ ${row.target.p99Ms} ms` : ''}: ${mark(row.target.met)}` : '',
      ]),
    ),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );

  const columns = results.backends.map((backend) => backend.name);
  const per = <T>(pick: (backend: Results['backends'][number]) => T) => results.backends.map(pick);
  const embedded = results.backends.find((backend) => backend.name === 'sqlite');
  const others = (
    [
      [
        'projection lag p50 / p99 ms (creates at half the create throughput)',
        per((b) => `${ms(b.projectionLag.p50Ms)} / ${ms(b.projectionLag.p99Ms)} (${int(b.projectionLag.createsPerSecond)} creates/s, ${b.projectionLag.samples} readings)`),
        embedded?.projectionLag.p99Ms == null
          ? ''
          : // A p99 needs readings enough: a stalled event loop answers few.
            `p99 ≤ ${LAG_P99_TARGET_MS}: ${embedded.projectionLag.samples < MIN_LAG_READINGS ? `not shown (fewer than ${MIN_LAG_READINGS} readings)` : mark(embedded.projectionLag.p99Ms <= LAG_P99_TARGET_MS)}`,
      ],
      [
        'event-loop delay p99 ms (create load, worst run)',
        per((b) => ms(b.eventLoopDelayP99Ms.worst)),
        embedded?.eventLoopDelayP99Ms.worst != null ? `≤ ${EVENT_LOOP_P99_TARGET_MS}: ${mark(embedded.eventLoopDelayP99Ms.worst <= EVENT_LOOP_P99_TARGET_MS)}` : '',
      ],
      ['fsyncs per create (service process)', per((b) => (b.fsyncsPerCreate.value === null ? 'n/a' : b.fsyncsPerCreate.value.toFixed(2))), ''],
      ['peak RSS of the service, MB', per((b) => (b.peakRssMb === null ? 'n/a' : int(b.peakRssMb))), ''],
      [
        'rebuild, events/s',
        per((b) => `${int(b.rebuild.eventsPerSecond)} (${int(b.rebuild.events)} events)`),
        embedded ? `≥ ${int(REBUILD_TARGET)}: ${mark(embedded.rebuild.eventsPerSecond >= REBUILD_TARGET)}` : '',
      ],
    ] as [string, string[], string][]
  ).map(([measure, values, target]) => [measure, ...values, target]);
  const summary = table(['measure', ...columns, 'target (issue 10, sqlite)'], others, ['l', ...columns.map(() => 'r' as const), 'l']);

  const skipped = results.skipped.map((skip) => `\n${skip.backend} skipped: ${skip.reason}.`).join('');
  return `${heading}\n\n${requests}\n\n${summary}\n${skipped}`;
}
