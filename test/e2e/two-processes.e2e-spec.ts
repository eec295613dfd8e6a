import request from 'supertest';
import { generateApiKey } from '../../src/auth/api-key';
import { ACCOUNTS, removeDir, tempDataDir } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { ServiceProcess, startService, stopService } from '../support/service-process';

jest.setTimeout(60_000);

describe('Two service processes on one DATA_DIR', () => {
  const dataDir = tempDataDir();
  const key = generateApiKey('staging');
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    // One after the other: both would otherwise store the bootstrap key at the same moment.
    services.push(await startService(dataDir, key));
    services.push(await startService(dataDir, key));
  });
  afterAll(async () => {
    await Promise.all(services.map(stopService));
    removeDir(dataDir);
  });

  const create = (service: ServiceProcess, externalId: string) =>
    request(service.url).post(ACCOUNTS).set('X-Api-Key', key).send({ data: { type: 'account', attributes: { entity_type: 'person', external_id: externalId } } });
  const lookup = (service: ServiceProcess, externalId: string) =>
    request(service.url).get(`${ACCOUNTS}?filter[external_id]=${externalId}`).set('X-Api-Key', key).expect(200);

  it('lets exactly one of 25 concurrent creates, spread over both, have an external_id; the rest answer 409 naming it', async () => {
    for (let round = 0; round < 3; round++) {
      const externalId = `two-processes-${round}`;
      const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => create(services[i % 2], externalId)));
      const created = responses.filter((r) => r.status === 201);
      expect(created).toHaveLength(1);
      const holder = created[0].body.data.id;
      for (const response of responses.filter((r) => r.status !== 201)) {
        expect(response.status).toBe(409);
        expect(response.body.errors[0]).toMatchObject({ code: 'external_id_taken', meta: { account_id: holder } });
      }
      // Each process answers the lookup at once, whichever process wrote.
      for (const service of services) expect((await lookup(service, externalId)).body.data.map((d: { id: string }) => d.id)).toEqual([holder]);
    }
  });

  it('makes one account of 20 concurrent creates with one Idempotency-Key spread over both; every 201 is that account', async () => {
    const idempotencyKey = `two-processes-${Date.now()}`;
    const body = { data: { type: 'account', attributes: { entity_type: 'person', contact: { email: 'same.request@example.com' } } } };
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(services[i % 2].url).post(ACCOUNTS).set('X-Api-Key', key).set('Idempotency-Key', idempotencyKey).send(body)),
    );
    for (const response of responses) expect([201, 409]).toContain(response.status);
    const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.data.id));
    expect(ids.size).toBe(1);
    const made = [...(await freshFolds(dataDir)).values()].filter(
      (fold) => (fold.body as { data: { attributes: { contact: { email: string } | null } } }).data.attributes.contact?.email === 'same.request@example.com',
    );
    expect(made).toHaveLength(1);
    // Both processes replay it now.
    for (const service of services) {
      const replay = await request(service.url).post(ACCOUNTS).set('X-Api-Key', key).set('Idempotency-Key', idempotencyKey).send(body).expect(201);
      expect([replay.body.data.id, replay.headers['idempotent-replayed']]).toEqual([[...ids][0], 'true']);
    }
  });

  it('keeps PATCHes in one process and creates in the other from sharing an external_id', async () => {
    const movers = await Promise.all(Array.from({ length: 6 }, (_, i) => create(services[0], `mover-${i}`).expect(201)));
    const responses = await Promise.all([
      ...movers.map((r) => {
        const id = r.body.data.id;
        return request(services[0].url).patch(`${ACCOUNTS}/${id}`).set('X-Api-Key', key).send({ data: { type: 'account', id, attributes: { external_id: 'cross-target' } } });
      }),
      ...Array.from({ length: 6 }, () => create(services[1], 'cross-target')),
    ]);
    expect(responses.filter((r) => r.status === 200 || r.status === 201)).toHaveLength(1);
    const holders = [...(await freshFolds(dataDir)).entries()]
      .filter(([, fold]) => (fold.body as { data: { attributes: { external_id: string } } }).data.attributes.external_id === 'cross-target')
      .map(([id]) => id);
    expect(holders).toHaveLength(1);
    for (const service of services) expect((await lookup(service, 'cross-target')).body.data.map((d: { id: string }) => d.id)).toEqual(holders);
  });
});
