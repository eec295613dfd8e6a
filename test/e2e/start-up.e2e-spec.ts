import { ACCOUNTS, appForEachSuite } from '../support/app-harness';

// Start-up a person can follow: a liveness endpoint without a key, PORT=0, a first-start key that a
// failed start cannot lose, and in production a pointer to the CLI when there is no key at all.

describe('GET /health/live', () => {
  const t = appForEachSuite();

  it('answers 200 {"status":"ok"} as plain JSON, without a key', async () => {
    const response = await t.http().get('/health/live').expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.body).toEqual({ status: 'ok' });
    await t.http().head('/health/live').expect(200);
    // A key, even a wrong one, changes nothing.
    await t.http().get('/health/live').set('X-Api-Key', 'not-a-key').expect(200);
  });

  it('answers other methods with 405 and Allow, and leaves the API behind its key', async () => {
    const post = await t.http().post('/health/live').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    await t.http().get(ACCOUNTS).expect(401);
  });
});
