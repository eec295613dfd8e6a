import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { GUIDE_CREATE_ATTRIBUTES, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { eventsBehindCheckpoint, storedPlaintextHits, throwAwayReadModel } from '../support/stored-data';
import { itReadingStoredBytes, storageEnv } from '../support/test-storage';

jest.setTimeout(60_000);

/** Distinctive personal values: none may ever appear in plaintext in any file. */
const SECRETS = {
  first: 'Wilhelmina', middle: 'Quenby', last: 'Zarathustra-Oyelaran', birth: '1971-03-29', email: 'wilhelmina.z@mailbox-kzq.example',
  phone: '+447700900123', line1: '47 Quillfeather Lane', locality: 'Brackenmoor', postal: 'BM9 4QX', ssn: '731-55-0192', passport: 'QZ7730451',
  newEmail: 'w.zarathustra@otherbox-kzq.example', newLine1: '9 Hollowmere Court',
};

const personalAttributes = {
  external_id: 'durable-user',
  entity_type: 'person',
  person: { name: { first: SECRETS.first, middle: SECRETS.middle, last: SECRETS.last }, birth_date: SECRETS.birth, sex: 'female' },
  contact: { email: SECRETS.email, phone: SECRETS.phone },
  address: { line1: SECRETS.line1, locality: SECRETS.locality, postal_code: SECRETS.postal, country_code: 'GB' },
  identity_numbers: [{ number: SECRETS.ssn, class: 'ssn', issuing_country_code: 'US' }, { number: SECRETS.passport, class: 'passport', issuing_country_code: 'GB' }],
};

async function expectReadModelEqualsFolds(t: TestApp) {
  const folds = await freshFolds(t.dataDir);
  expect(folds.size).toBeGreaterThan(0);
  for (const [id, fold] of folds) {
    const read = await t.get(id).expect(200);
    expect(read.body).toEqual(fold.body);
    expect(read.headers.etag).toBe(`"${fold.revision}"`);
  }
}

describe('Durability', () => {
  it('reads back every acknowledged write after the app is stopped and started on the same DATA_DIR', async () => {
    const first = await startApp();
    const bodies = new Map<string, unknown>();
    for (let i = 0; i < 5; i++) {
      const { id } = (await first.create({ ...GUIDE_CREATE_ATTRIBUTES, external_id: `user-${i}` }).expect(201)).body.data;
      const patched = await first.patch(id, { contact: { email: `u${i}@example.com` } }).expect(200);
      bodies.set(id, patched.body);
    }
    await first.close();

    const second = await startApp({ dataDir: first.dataDir, key: first.key });
    try {
      for (const [id, body] of bodies) {
        const read = await second.get(id).expect(200);
        expect(read.body).toEqual(body);
        expect(read.headers.etag).toBe('"1"');
      }
      // And it goes on writing after the restart.
      const [id] = bodies.keys();
      expect((await second.patch(id, { external_id: 'after-restart' }).expect(200)).headers.etag).toBe('"2"');
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });

  it('rebuilds the read model after the projection is killed mid-stream: it equals a fresh fold of every stream', async () => {
    const dataDir = tempDataDir();
    const writer = await startApp({ dataDir });
    for (let i = 0; i < 40; i++) {
      const { id } = (await writer.create({ ...GUIDE_CREATE_ATTRIBUTES, external_id: `kill-${i}` }).expect(201)).body.data;
      for (let j = 0; j < 3; j++) await writer.patch(id, { contact: { phone: `+1555000${i}${j}` }, person: { sex: j % 2 ? 'male' : 'female' } }).expect(200);
    }
    await writer.close();

    // Throw the read model away, then let a projection process rebuild it and kill -9 it a third of the way in.
    await throwAwayReadModel(dataDir);
    const worker = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '../support/projection-worker.ts'), dataDir, '2'], {
      env: { ...process.env, ...storageEnv(dataDir) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const total = 40 * 4;
    while ((await eventsBehindCheckpoint(dataDir)) < total / 3 && worker.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    const killedAt = await eventsBehindCheckpoint(dataDir);
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(total);

    const reader = await startApp({ dataDir, key: writer.key });
    try {
      await expectReadModelEqualsFolds(reader);
    } finally {
      await reader.close();
      removeDir(dataDir);
    }
  });
});

describe('Personal data at rest', () => {
  itReadingStoredBytes('never writes a personal value in plaintext: not to the event store, the read model, any file or database page, or the logs', async () => {
    const t = await startApp();
    try {
      const { id } = (await t.create(personalAttributes).expect(201)).body.data;
      await t.patch(id, { contact: { email: SECRETS.newEmail }, address: { line1: SECRETS.newLine1 } }).expect(200);
      const read = await t.get(id).expect(200);
      // A client that puts personal data in a path gets a 404, and the request log keeps only the route.
      await t.get(SECRETS.email).expect(404);
      await t.http().get(`/v1/identity/people/${SECRETS.last}`).set('X-Api-Key', t.key).expect(404);
      // The API itself still answers with the plaintext...
      expect(read.body.data.attributes.contact.email).toBe(SECRETS.newEmail);
      expect(read.body.data.attributes.identity_numbers[0].number).toBe(SECRETS.ssn);
      // ...while no file (WAL included, checked while the app runs), database page nor log line holds any of it.
      expect(await storedPlaintextHits(t.dataDir, Object.values(SECRETS), [{ name: 'logs', text: t.logs.join('\n') }])).toEqual([]);
      await t.close();
      expect(await storedPlaintextHits(t.dataDir, Object.values(SECRETS))).toEqual([]);
      // The scan does see what is stored in plaintext: the external_id (the platform's own id, not personal data).
      expect(await storedPlaintextHits(t.dataDir, [personalAttributes.external_id])).not.toEqual([]);

      // Replaying the stream still yields the values: they are encrypted, not lost.
      const folds = await freshFolds(t.dataDir);
      expect(folds.get(id)!.body).toEqual(read.body);
    } finally {
      removeDir(t.dataDir);
    }
  });
});
