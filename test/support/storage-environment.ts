// Jest test environment of every project (jest.config.js): Node's, plus the stores the project's
// e2e suites run on (testEnvironmentOptions.storage, read by test-storage.ts). On PostgreSQL, every
// DATA_DIR of a test file gets a database of its own, named with the file's prefix; teardown, which
// runs after every hook of the file, drops them all, whatever the file left connected.
import { randomBytes } from 'node:crypto';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment as NodeEnvironment } from 'jest-environment-node';
import { Client } from 'pg';

export default class StorageEnvironment extends NodeEnvironment {
  private readonly databasePrefix = `ia_e2e_${process.pid}_${randomBytes(4).toString('hex')}`;
  private readonly storage: string;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.storage = String(config.projectConfig.testEnvironmentOptions.storage ?? 'sqlite');
    this.global.__TEST_STORAGE__ = this.storage;
    this.global.__TEST_DATABASE_PREFIX__ = this.databasePrefix;
  }

  override async teardown(): Promise<void> {
    const adminUrl = this.global.__TEST_ADMIN_DATABASE_URL__ as string | undefined;
    if (adminUrl) await dropDatabases(adminUrl, this.databasePrefix);
    await super.teardown();
  }
}

async function dropDatabases(adminUrl: string, prefix: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
