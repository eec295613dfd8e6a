import { runAccountCommand } from '../../src/accounts/application/run-account-command';
import { AccountProjection } from '../../src/accounts/projection/account-projection';
import { AccountReadModel } from '../../src/accounts/projection/account-read-model.port';
import { Actor } from '../../src/kernel/tenant';
import { appForEachSuite, removeDir, startApp, TestApp } from '../support/app-harness';
import { describePostgres } from '../support/postgres';
import { openServices } from '../support/services';
import { itOnSqliteFiles } from '../support/test-storage';

// GET /health/ready (@nestjs/terminus): ready while every store answers and the read model keeps up
// with the event store; not ready, saying which part and why in a word, otherwise.

interface HealthBody {
  status: string;
  info: Record<string, Record<string, unknown>>;
  error: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}
const STORES = ['event_store', 'read_model', 'data_keys', 'api_keys'];
const ready = async (t: TestApp, status: number) => {
  const response = await t.http().get('/health/ready').expect(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(response.headers['cache-control']).toContain('no-store');
  return response.body as HealthBody;
};
const actor: Actor = { tenant: { organization_id: 'default', environment: 'staging' }, api_key_id: 'key_health', request_id: 'req_health', correlation_id: 'req_health' };

describe('GET /health/ready', () => {
  const t = appForEachSuite({ env: { READY_MAX_LAG_MS: '300' } });

  it('answers 200 without a key when every store answers and the projection keeps up', async () => {
    const body = await ready(t, 200);
    expect(body.status).toBe('ok');
    for (const store of STORES) expect(body.details[store]).toEqual({ status: 'up' });
    expect(body.details.projection).toEqual({ status: 'up', following: true, lag_ms: 0, max_lag_ms: 300 });
    expect(body.error).toEqual({});
  });

  it('turns 503 once the projection is stopped, and stays so while writes it does not apply pile up past READY_MAX_LAG_MS', async () => {
    const projection = t.app.get(AccountProjection);
    await projection.stop();
    try {
      const stopped = await ready(t, 503);
      expect(stopped.status).toBe('error');
      expect(stopped.error.projection).toEqual({ status: 'down', following: false, lag_ms: 0, max_lag_ms: 300 });
      for (const store of STORES) expect(stopped.info[store]).toEqual({ status: 'up' });

      // Another writer on the same stores, whose events nothing applies while the projection is stopped.
      const writer = await openServices(t.dataDir);
      try {
        const id = writer.ids.accountId();
        await runAccountCommand(writer.repository, {
          accountId: id,
          actor,
          reservations: writer.reservations,
          command: () => ({ kind: 'CreateAccount', account_id: id, tenant: actor.tenant, attributes: { entity_type: 'person' }, now: '2026-01-01T00:00:00Z' }),
        });
      } finally {
        await writer.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      const lagging = await ready(t, 503);
      expect(lagging.error.projection).toEqual(expect.objectContaining({ status: 'down', following: false }));
      expect(lagging.error.projection.lag_ms).toBeGreaterThan(300);
    } finally {
      projection.start();
    }
    // Started again, it catches up and the service is ready again.
    const deadline = Date.now() + 10_000;
    let body = await t.http().get('/health/ready');
    while (body.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      body = await t.http().get('/health/ready');
    }
    expect(body.status).toBe(200);
    expect(body.body.details.projection).toEqual({ status: 'up', following: true, lag_ms: 0, max_lag_ms: 300 });
  });

  it('turns 503 when the projection runs but cannot apply what is written, once it is READY_MAX_LAG_MS behind', async () => {
    const readModel = t.app.get(AccountReadModel);
    const commit = readModel.commit.bind(readModel);
    readModel.commit = () => Promise.reject(new Error('disk full'));
    try {
      // A write is answered from its own fold, whether or not the read model can take it.
      const write = await t.create({ entity_type: 'business' }).expect(201);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const behind = await ready(t, 503);
      expect(behind.error.projection).toEqual(expect.objectContaining({ status: 'down', following: true, max_lag_ms: 300 }));
      expect(behind.error.projection.lag_ms).toBeGreaterThan(300);
      readModel.commit = commit;
      // A read waits for the read model to have it.
      await t.get(write.body.data.id).expect(200);
    } finally {
      readModel.commit = commit;
    }
    await ready(t, 200);
  });
});

describe('GET /health/ready with a store gone', () => {
  itOnSqliteFiles('state')('answers 503 naming the read model (and the projection, which cannot be measured without it) when its SQLite file is no longer open', async () => {
    const t = await startApp();
    try {
      await ready(t, 200);
      await t.app.get(AccountReadModel).close();
      const body = await ready(t, 503);
      expect(body.error).toEqual({ read_model: { status: 'down', reason: 'unreachable' }, projection: { status: 'down', reason: 'unreachable' } });
      expect(Object.keys(body.info).sort()).toEqual(['api_keys', 'data_keys', 'event_store']);
      // Liveness checks no store: the process still answers.
      await t.http().get('/health/live').expect(200);
      // The log says which check failed and how, in the error's name only.
      expect(t.logs.map((line) => JSON.parse(line)).filter((line) => line.message === 'readiness check failed')).toContainEqual(
        expect.objectContaining({ level: 'warn', check: 'read_model', error: expect.any(String) }),
      );
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

describePostgres('GET /health/ready on PostgreSQL', (database) => {
  it('answers 503 naming every store kept in PostgreSQL once its database is gone, and 200 before', async () => {
    // The events elsewhere (SQLite), whichever stores the jest project runs on: they stay up.
    const t = await startApp({ env: { EVENT_STORE: 'sqlite', READ_MODEL: 'postgres', DATABASE_URL: database.url } });
    try {
      await ready(t, 200);
      const { Client } = await import('pg');
      const admin = new Client({ connectionString: database.url.replace(/\/[^/]+$/, '/postgres') });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE ${new URL(database.url).pathname.slice(1)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
      const body = await ready(t, 503);
      expect(body.info).toEqual({ event_store: { status: 'up' } });
      for (const store of ['read_model', 'data_keys', 'api_keys', 'projection']) expect(body.error[store]).toEqual({ status: 'down', reason: 'unreachable' });
      // Nothing in the answer names the server or the database.
      expect(JSON.stringify(body)).not.toContain(new URL(database.url).hostname);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});
