import { Command, InvalidArgumentError } from 'commander';
import { accountStream } from '../accounts/application/account-repository';
import { accountEventResource } from '../accounts/audit/account-event.serializer';
import { VerificationProblem } from '../accounts/audit/store-verifier';
import { accountResource } from '../accounts/http/account.serializer';
import { ProjectionBusy } from '../accounts/projection/read-model-rebuild';
import { createServices, Services } from '../composition-root';
import { ACCOUNT_ID_PATTERN } from '../kernel/ids';
import { progressOf } from '../storage/event-store.port';
import { openStorage } from '../storage/open-storage';
import { StoreAccess } from '../storage/store-access';
import { CliContext } from './cli-context';
import { CliFailure, progressBar } from './cli-io';
import { replayTable } from './replay-table';

function parseAccountId(value: string): string {
  if (!ACCOUNT_ID_PATTERN.test(value)) throw new InvalidArgumentError('an account id is acc_ and 26 letters or digits');
  return value;
}

/** The services on the configured data; closed whatever happens. */
async function withServices<T>(context: CliContext, access: StoreAccess, run: (services: Services) => Promise<T>): Promise<T> {
  const config = context.config();
  context.opening(config, access);
  const services = await context.open(async () => {
    // A write-side command (rebuild) on a mistyped DATA_DIR must not create an empty store either.
    if (access === 'read-write') await (await openStorage(config, 'read-only', ['eventStore'])).close();
    return createServices(config, { access });
  });
  try {
    return await run(services);
  } finally {
    await services.close();
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const where = (problem: VerificationProblem) =>
  problem.stream === null ? problem.problem : `${problem.stream}${problem.revision === null ? '' : `@${problem.revision}`}: ${problem.problem}`;

export function registerAuditCommands(program: Command, context: CliContext): void {
  const { io } = context;

  program
    .command('replay')
    .description("each event of an account, then the account's state after it (read-only)")
    .argument('<account-id>', 'the account (acc_…)', parseAccountId)
    .option('--json', 'NDJSON: one line per event, {"event": <account-event>, "state": <account>}')
    .action((accountId: string, options: { json?: boolean }) =>
      withServices(context, 'read-only', async ({ history }) => {
        const trail = await history.trail(accountId);
        if (!trail) throw new CliFailure(`no account ${accountId} in this DATA_DIR`);
        const steps = [];
        for await (const step of history.replay(trail)) steps.push(step);
        if (options.json) {
          for (const { entry, state } of steps) io.out(JSON.stringify({ event: accountEventResource(accountId, entry), state: state && accountResource(state) }));
        } else {
          for (const line of replayTable(accountId, steps)) io.out(line);
        }
      }),
    );

  program
    .command('export')
    .description("an account's raw stream as NDJSON, ciphertext as stored, for an external auditor (read-only; needs no master key)")
    .argument('<account-id>', 'the account (acc_…)', parseAccountId)
    .action(async (accountId: string) => {
      const config = context.config();
      context.opening(config, 'read-only');
      const storage = await context.open(() => openStorage(config, 'read-only', ['eventStore']));
      try {
        const events = await storage.eventStore.readStream(accountStream(accountId));
        if (events.length === 0) throw new CliFailure(`no stream ${accountStream(accountId)} in this DATA_DIR`);
        for (const event of events) {
          io.out(
            JSON.stringify({
              stream: event.stream,
              revision: Number(event.revision),
              // A decimal string: positions of other stores exceed what a JSON number holds exactly.
              position: String(event.position),
              recorded_at: event.recordedAt.toISOString(),
              id: event.id,
              type: event.type,
              data: event.data,
              metadata: event.metadata,
            }),
          );
        }
      } finally {
        await storage.close();
      }
    });

  program
    .command('verify')
    .description('check every hash chain and seal, and every read-model row against a fresh fold of its stream (read-only); exit 1 on any problem')
    .argument('[account-id]', 'only this account (acc_…)', parseAccountId)
    .option('--require-seals', 'count events without a seal (written before seals existed) as problems')
    .action((accountId: string | undefined, options: { requireSeals?: boolean }) =>
      withServices(context, 'read-only', async ({ verifier }) => {
        const bars = { chains: progressBar(io, 'hash chains and seals', 'positions'), 'read model': progressBar(io, 'read model         ', 'accounts') };
        // Under a bar on the same terminal, a line would break it: problems wait until the bars are done.
        const live = !io.progress?.isTTY;
        const report = await verifier.verify({
          accountId,
          onProgress: ({ phase, done, total }) => {
            if (phase === 'read model') bars.chains.stop();
            bars[phase].update(done, total);
          },
          onProblem: (problem) => live && io.out(where(problem)),
        }).finally(() => Object.values(bars).forEach((bar) => bar.stop()));
        if (!live) for (const problem of report.problems) io.out(where(problem));
        const problems = report.problems.length + (options.requireSeals ? report.unsealed : 0);
        if (report.unsealed) {
          io.out(`${count(report.unsealed, 'event')} without a seal: written before seals existed${options.requireSeals ? ', counted as problems (--require-seals)' : ''}.`);
        }
        const checked = `${count(report.events, 'event')} in ${count(report.streams, 'stream')} and ${count(report.rows, 'read-model row')}`;
        io.out(`Checked ${checked}: ${problems === 0 ? 'no problems' : count(problems, 'problem')}.`);
        context.exitCode = problems === 0 ? 0 : 1;
      }),
    );

  program
    .command('rebuild')
    .description('rebuild the read models from the event store (stop the service first: it refuses while a service applies the projection)')
    .action(() =>
      withServices(context, 'read-write', async ({ rebuild }) => {
        const bar = progressBar(io, 'rebuild', 'positions');
        const result = await rebuild
          .rebuild(({ position, head }) => bar.update(progressOf(position), progressOf(head)))
          .catch((error: unknown) => {
            throw error instanceof ProjectionBusy ? new CliFailure(error.message) : error;
          })
          .finally(() => bar.stop());
        const rate = result.seconds > 0 ? Math.round(result.events / result.seconds) : result.events;
        io.out(`Rebuilt the read model from ${result.events} events in ${result.seconds.toFixed(2)} s: ${rate} events/s.`);
      }),
    );
}
