// `rebuild` at scale: seeds an event store with N account events straight through the composition
// root (the built one, dist/, the code the CLI runs), then times `node dist/cli.js rebuild` on it.
// Seeding goes past HTTP on purpose: 100,000 events through the API would take longer than the
// whole benchmark. The events are the domain's own (decide), sealed and chained by the repository,
// exactly as the service writes them; external_id reservations are left out (the rebuild reads
// account streams only).
import { join } from 'node:path';
import type * as CompositionRoot from '../src/composition-root';
import type * as Config from '../src/config/app-config';
import type * as Decide from '../src/accounts/domain/decide';
import type * as Evolve from '../src/accounts/domain/evolve';
import type { Account } from '../src/accounts/domain/account';
import type { AccountCommand } from '../src/accounts/domain/commands';
import type { AccountEvent } from '../src/accounts/domain/events';
import type { Actor } from '../src/kernel/tenant';
import { ROOT, runNode } from './processes';

/** Events per account stream: one create, then updates and status changes taking turns. */
export const EVENTS_PER_ACCOUNT = 50;
/** Appends in flight at once while seeding (PostgreSQL takes them in parallel; SQLite one by one). */
const SEEDING_CONCURRENCY = 8;

const built = <T>(module: string): T => require(join(ROOT, 'dist', module)) as T;

export interface RebuildFigures {
  events: number;
  accounts: number;
  seedSeconds: number;
  /** The CLI's own figure: events applied over the rebuild's time. */
  eventsPerSecond: number;
  rebuildSeconds: number;
  /** The whole `node dist/cli.js rebuild`: start-up and opening the stores included. */
  processSeconds: number;
}

export async function benchRebuild(env: Record<string, string>, events: number, progress: (line: string) => void): Promise<RebuildFigures> {
  const { createServices } = built<typeof CompositionRoot>('composition-root');
  const { loadConfig } = built<typeof Config>('config/app-config');
  const { decide } = built<typeof Decide>('accounts/domain/decide');
  const { fold } = built<typeof Evolve>('accounts/domain/evolve');
  const { NO_STREAM, START } = built<typeof import('../src/storage/event-store.port')>('storage/event-store.port');

  const accounts = Math.ceil(events / EVENTS_PER_ACCOUNT);
  const started = process.hrtime.bigint();
  const services = await createServices(loadConfig(env));
  try {
    const actor: Actor = {
      tenant: { organization_id: 'bench', environment: 'production' },
      api_key_id: 'key_bench',
      request_id: 'req_bench',
      correlation_id: 'req_bench',
    };
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    let seeded = 0;
    let next = 0;
    const seedOne = async (n: number) => {
      const accountId = services.ids.accountId();
      const commands: AccountCommand[] = [
        {
          kind: 'CreateAccount',
          account_id: accountId,
          tenant: actor.tenant,
          attributes: {
            entity_type: 'person',
            external_id: `seed-${n}`,
            person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15' },
            contact: { email: 'jane.doe@example.com', phone: '+14155550100' },
            identity_numbers: [{ number: '123-45-6789', issuing_country_code: 'US', class: 'ssn' }],
          },
          now,
        },
      ];
      const stream: AccountEvent[] = [];
      let state: Account | null = null;
      for (let i = 0; stream.length < EVENTS_PER_ACCOUNT; i++) {
        const command: AccountCommand =
          i === 0
            ? commands[0]
            : i % 2 === 1
              ? { kind: 'UpdateAccount', attributes: { contact: { email: `jane.${i}@example.com` } }, now }
              : { kind: 'ChangeStatus', status: state?.status === 'active' ? 'suspended' : 'active', reason: null, now };
        const decided = decide(command, state);
        stream.push(...decided);
        state = fold(decided, state);
      }
      await services.repository.append({ accountId, state: null, revision: NO_STREAM, position: START, lastHash: null }, stream, actor);
      seeded += stream.length;
    };
    let lastReport = Date.now();
    await Promise.all(
      Array.from({ length: SEEDING_CONCURRENCY }, async () => {
        while (next < accounts) {
          await seedOne(next++);
          if (Date.now() - lastReport > 5000) {
            lastReport = Date.now();
            progress(`seeded ${seeded.toLocaleString('en')} of ${(accounts * EVENTS_PER_ACCOUNT).toLocaleString('en')} events`);
          }
        }
      }),
    );
  } finally {
    await services.close();
  }
  const seedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  progress(`seeded ${(accounts * EVENTS_PER_ACCOUNT).toLocaleString('en')} events (${accounts.toLocaleString('en')} accounts) in ${seedSeconds.toFixed(1)} s; rebuilding`);

  const run = await runNode(['dist/cli.js', 'rebuild'], env);
  const match = /Rebuilt the read model from (\d+) events in ([\d.]+) s: (\d+) events\/s/.exec(run.output);
  if (run.code !== 0 || !match) throw new Error(`rebuild failed (exit ${run.code}):\n${run.output.slice(-2000)}`);
  return {
    events: Number(match[1]),
    accounts,
    seedSeconds,
    eventsPerSecond: Number(match[3]),
    rebuildSeconds: Number(match[2]),
    processSeconds: run.seconds,
  };
}
