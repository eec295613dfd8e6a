import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { registerAuditCommands } from './cli/audit-commands';
import { CliContext } from './cli/cli-context';
import { CliFailure, CliIo, CliUsageError, processIo } from './cli/cli-io';
import { registerKeyCommands } from './cli/keys-commands';
import { registerMigrateCommand } from './cli/migrate-command';

// The reviewers' and operators' CLI, on the service's own configuration (DATA_DIR,
// ACCOUNTS_MASTER_KEY, EVENT_STORE, READ_MODEL, DATABASE_URL, EVENTSTORE_CONNECTION_STRING) and its composition root.
// Exit codes: 0 done (verify: no problems), 1 a problem found or a command failed, 2 bad usage or configuration.

const ENVIRONMENT_HELP = `
Environment (the service's own): DATA_DIR (default ./data), ACCOUNTS_MASTER_KEY (else DATA_DIR/master.key),
EVENT_STORE, READ_MODEL, DATABASE_URL, EVENTSTORE_CONNECTION_STRING. Every command says which data it
opened, on stderr. Read-only commands (keys list, replay, export, verify) never create a store: a
DATA_DIR without one is an error.`;

function program(context: CliContext): Command {
  // Settings first: subcommands made with .command() inherit them.
  const cli = new Command('cli')
    .description('Identity Accounts: API keys, the master key, schema migrations, and the audit reviewers\' replay, export, verify and rebuild')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({
      // commander writes whole blocks ending in a newline; the io takes lines.
      writeOut: (text) => context.io.out(text.replace(/\n$/, '')),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    })
    .addHelpText('after', ENVIRONMENT_HELP);
  registerKeyCommands(cli, context);
  registerAuditCommands(cli, context);
  registerMigrateCommand(cli, context);
  return cli;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: CliIo | ((line: string) => void) = processIo): Promise<number> {
  const context = new CliContext(typeof io === 'function' ? { out: io, err: io } : io, env);
  try {
    await program(context).parseAsync(argv, { from: 'user' });
    return context.exitCode;
  } catch (error) {
    // commander has already printed its message (and the help).
    if (error instanceof CommanderError) return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2;
    if (error instanceof CliUsageError || error instanceof CliFailure) {
      context.io.err(`error: ${error.message}`);
      return error instanceof CliUsageError ? 2 : 1;
    }
    throw error;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), process.env).then(
    // Not process.exit: output still queued for a pipe is written before the process ends.
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
      process.exit(1);
    },
  );
}
