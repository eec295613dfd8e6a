import { Command } from 'commander';
import { migrate, MIGRATIONS } from '../storage/postgres/migrations';
import { createPostgresPool } from '../storage/postgres/postgres-pool';
import { PostgresUnavailable } from '../storage/postgres/postgres-storage';
import { CliContext, describeDatabase } from './cli-context';
import { CliFailure } from './cli-io';

export function registerMigrateCommand(program: Command, context: CliContext): void {
  program
    .command('migrate')
    .description('bring the PostgreSQL schema (DATABASE_URL) up to date, as the service does when it starts; running it again changes nothing')
    .action(async () => {
      const config = context.config();
      if (config.eventStore !== 'postgres' && config.readModel !== 'postgres') {
        // SQLite files are created and brought up to date by whoever opens them; EventStoreDB has no schema.
        context.io.out(`Nothing to migrate: no adapter is postgres (EVENT_STORE=${config.eventStore}, READ_MODEL=${config.readModel}).`);
        return;
      }
      context.opening(config, 'read-write', describeDatabase(config));
      const pool = createPostgresPool(config.databaseUrl!, { max: 1 });
      try {
        const applied = await migrate(pool).catch((error: unknown) => {
          throw new CliFailure(new PostgresUnavailable(config.databaseUrl!, error).message);
        });
        const latest = Math.max(...MIGRATIONS.map((m) => m.version));
        for (const version of applied) context.io.out(`Applied migration ${version}: ${MIGRATIONS.find((m) => m.version === version)!.description}`);
        context.io.out(applied.length ? `The schema is at migration ${latest}.` : `Nothing to migrate: the schema is at migration ${latest} already.`);
      } finally {
        await pool.end();
      }
    });
}
