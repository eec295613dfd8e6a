import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from 'identity-accounts/testing';

// Another project's jest suite, as the README shows it: the testing entry point is imported by the
// package's name, exactly as after `npm install identity-accounts` (here jest's moduleNameMapper
// points that name at src/testing.ts; test/e2e/package.e2e-spec.ts checks the built package), and
// the API is reached with plain fetch.

const ACCOUNTS = '/v1/identity/accounts';

interface AccountDocument {
  data: { id: string; attributes: Record<string, unknown> };
}
interface ErrorDocument {
  errors: { code: string; meta?: Record<string, unknown> }[];
}
const bodyOf = async <T = AccountDocument>(response: Response) => (await response.json()) as T;

const createAccount = (url: string, apiKey: string, attributes: Record<string, unknown>) =>
  fetch(`${url}${ACCOUNTS}`, {
    method: 'POST',
    headers: { 'X-Api-Key': apiKey, 'Content-Type': 'application/vnd.api+json' },
    body: JSON.stringify({ data: { type: 'account', attributes } }),
  });

describe('identity-accounts/testing, used as an outside suite uses it', () => {
  it('starts a server, creates and reads an account, and closes, printing nothing on stdout', async () => {
    const printed: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let dataDir: string;
    let url: string;
    try {
      const server = await startTestServer();
      ({ dataDir, url } = server);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.apiKey).toMatch(/^sk_staging_[A-Za-z0-9]{32,}$/);
      expect(existsSync(dataDir)).toBe(true);

      const created = await createAccount(url, server.apiKey, { entity_type: 'person', external_id: 'user-1', person: { name: { first: 'Jane' } } });
      expect(created.status).toBe(201);
      const body = await bodyOf(created);
      expect(created.headers.get('location')).toBe(`${url}${ACCOUNTS}/${body.data.id}`);
      expect(created.headers.get('etag')).toBe('"0"');

      const read = await fetch(`${url}${ACCOUNTS}/${body.data.id}`, { headers: { 'X-Api-Key': server.apiKey } });
      expect(read.status).toBe(200);
      expect(await bodyOf(read)).toEqual(body);
      expect(body.data.attributes).toMatchObject({ status: 'pending', external_id: 'user-1', person: { name: { first: 'Jane', middle: null, last: null } } });

      await server.close();
      await server.close();
    } finally {
      stdout.mockRestore();
    }
    expect(printed).toEqual([]);
    // Gone: the server and its temporary DATA_DIR.
    expect(existsSync(dataDir)).toBe(false);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
  });

  describe('one server for a whole suite', () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    const logs: string[] = [];
    beforeAll(async () => {
      server = await startTestServer({ log: (line) => logs.push(line) });
    });
    afterAll(() => server.close());

    it('answers GET /health/live without a key, for a suite that waits for readiness', async () => {
      const live = await fetch(`${server.url}/health/live`);
      expect(live.status).toBe(200);
      expect(await live.json()).toMatchObject({ status: 'ok' });
    });

    it('creates keys of other tenants, which see none of this tenant\'s accounts', async () => {
      const mine = (await bodyOf(await createAccount(server.url, server.apiKey, { entity_type: 'business' }))).data.id;
      for (const other of [await server.createKey({ organization: 'acme' }), await server.createKey({ environment: 'production' })]) {
        expect((await fetch(`${server.url}${ACCOUNTS}/${mine}`, { headers: { 'X-Api-Key': other } })).status).toBe(404);
        const theirs = await createAccount(server.url, other, { entity_type: 'person' });
        expect(theirs.status).toBe(201);
      }
      expect(await server.createKey({ environment: 'production' })).toMatch(/^sk_production_/);
    });

    it('creates keys with fewer scopes', async () => {
      const reader = await server.createKey({ scopes: ['accounts:read'] });
      expect((await fetch(`${server.url}${ACCOUNTS}`, { headers: { 'X-Api-Key': reader } })).status).toBe(200);
      const refused = await createAccount(server.url, reader, { entity_type: 'person' });
      expect(refused.status).toBe(403);
      expect((await bodyOf<ErrorDocument>(refused)).errors[0]).toMatchObject({ code: 'insufficient_scope', meta: { required_scope: 'accounts:write' } });
    });

    it('hands its log lines to the log option', async () => {
      await fetch(`${server.url}${ACCOUNTS}`, { headers: { 'X-Api-Key': server.apiKey } });
      const requests = logs.map((line) => JSON.parse(line)).filter((line) => line.message === 'request');
      expect(requests).toContainEqual(expect.objectContaining({ method: 'GET', route: ACCOUNTS, status: 200 }));
    });
  });

  it('keeps a DATA_DIR it was given, so a second server starts on the same data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'outside-suite-'));
    try {
      const first = await startTestServer({ dataDir });
      const id = (await bodyOf(await createAccount(first.url, first.apiKey, { entity_type: 'person' }))).data.id;
      await first.close();
      expect(existsSync(dataDir)).toBe(true);

      const second = await startTestServer({ dataDir });
      try {
        expect((await fetch(`${second.url}${ACCOUNTS}/${id}`, { headers: { 'X-Api-Key': first.apiKey } })).status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
