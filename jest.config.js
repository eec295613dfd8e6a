// Every test, in three jest projects: `npm test` runs them all.
// - "all tests": unit, contract, integration and e2e suites, the e2e suites on SQLite files (the
//   embedded default);
// - "e2e: READ_MODEL=postgres" and "e2e: EVENT_STORE=postgres": the same e2e suites again on the
//   production adapters (the read model, keys and idempotency records in PostgreSQL; then the events
//   too), each DATA_DIR with a database of its own (test/support/test-storage.ts).
// Without a usable PostgreSQL the two PostgreSQL projects are left out, saying why; under CI=true
// they stay in, and fail.
const { spawnSync } = require('node:child_process');
const { availableParallelism } = require('node:os');

const common = {
  preset: 'ts-jest',
  testEnvironment: '<rootDir>/test/support/storage-environment.ts',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFilesAfterEnv: ['<rootDir>/test/support/record-error-wording.ts', '<rootDir>/test/support/check-answers-against-openapi.ts'],
  moduleNameMapper: { '^identity-accounts/testing$': '<rootDir>/src/testing.ts' },
};

// E2e suites that choose their stores themselves, or use none: the same in every project, so run once.
const STORES_OF_THEIR_OWN = [
  'cli-migrate', // PostgreSQL, always
  'cli-rotate-master', // SQLite and PostgreSQL, each
  'two-instances-postgres', // PostgreSQL, always
  'testing-entry-point', // startTestServer's own DATA_DIR, as a client's suite runs it
  'package', // npm pack
  'openapi', // the document and its lint
].map((name) => `/test/e2e/${name}\\.e2e-spec\\.ts$`);

const e2eOn = (displayName, storage) => ({
  ...common,
  displayName,
  testEnvironmentOptions: { storage },
  testRegex: 'test/e2e/.*\\.e2e-spec\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', ...STORES_OF_THEIR_OWN],
});

function postgresProblem() {
  const probe = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', "process.stdout.write(JSON.stringify(require('./test/support/postgres').postgresAvailability()))"], {
    cwd: __dirname,
    encoding: 'utf8',
    timeout: 30_000,
  });
  try {
    const found = JSON.parse(probe.stdout);
    return found.url ? null : found.reason;
  } catch {
    return `the probe failed: ${probe.stderr || probe.error?.message}`;
  }
}

const projects = [{ ...common, displayName: 'all tests', testRegex: '\\.(spec|e2e-spec)\\.ts$', testEnvironmentOptions: { storage: 'sqlite' } }];
const problem = process.env.CI === 'true' ? null : postgresProblem();
if (problem) {
  process.stderr.write(`Skipping the e2e suites on PostgreSQL (projects "e2e: READ_MODEL=postgres" and "e2e: EVENT_STORE=postgres"): PostgreSQL is not usable (${problem}). Set DATABASE_URL to a server where the user may create databases.\n`);
} else {
  projects.push(e2eOn('e2e: READ_MODEL=postgres', 'read-model-postgres'), e2eOn('e2e: EVENT_STORE=postgres', 'postgres'));
}

module.exports = {
  testTimeout: 30_000,
  // The e2e suites spend much of their time waiting on PostgreSQL, fsyncs and child processes: two
  // workers keep even a 2-core machine busy (jest's default there is one).
  maxWorkers: Math.max(2, availableParallelism() - 1),
  projects,
};
