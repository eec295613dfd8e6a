// The write side and the account projection as the service wires them, on the EventStoreDB adapter
// (over an in-memory client with EventStoreDB's semantics) with the SQLite read model. What this
// pins: the projection follows a server-side filtered subscription, and a read that waits for the
// head returns promptly although the log ends with events the subscription never hands over (an
// external_id released after a PATCH, EventStoreDB's own system events).
import { accountStream } from '../../src/accounts/application/account-repository';
import { CreateAccountCommand, CreateAccountHandler } from '../../src/accounts/application/create-account';
import { RESERVATION_STREAM_PREFIX } from '../../src/accounts/application/external-id-reservations';
import { UpdateAccountCommand, UpdateAccountHandler } from '../../src/accounts/application/update-account';
import { AccountProjection } from '../../src/accounts/projection/account-projection';
import { Services } from '../../src/composition-root';
import { Actor } from '../../src/kernel/tenant';
import { EventStoreDbEventStore } from '../../src/storage/eventstoredb/eventstoredb-event-store';
import { openServices } from '../support/services';
import { removeDir, tempDataDir } from '../support/app-harness';
import { FakeEventStoreDbClient } from '../support/fake-eventstoredb-client';

const TENANT = { organization_id: 'acme', environment: 'staging' } as const;
let requests = 0;
const actor = (): Actor => ({ tenant: TENANT, api_key_id: 'key_esdb', request_id: `req_${++requests}`, correlation_id: `req_${requests}` });

describe('The account projection on EventStoreDB', () => {
  let dataDir: string;
  let services: Services;
  /** Where the rows are read back: the services' read model. */
  let storage: Services;
  let client: FakeEventStoreDbClient;
  let store: EventStoreDbEventStore;
  let projections: AccountProjection[];
  let wiring: ReturnType<typeof wire>;

  /** The composition root's services with the EventStoreDB adapter (over the fake client) as their event store. */
  function wire(services: Services) {
    const create = new CreateAccountHandler(services.repository, services.reservations, services.ids, services.clock);
    const update = new UpdateAccountHandler(services.repository, services.reservations, services.clock);
    return {
      create: (attributes: Record<string, unknown>) => create.execute(new CreateAccountCommand(actor(), { entity_type: 'person', ...attributes })),
      update: (id: string, attributes: Record<string, unknown>) => update.execute(new UpdateAccountCommand(actor(), id, attributes)),
      projection: () => {
        const projection = new AccountProjection(store, services.readModel, services.eventCodec, services.rowCodec, {
          batchSize: 50,
          pollIntervalMs: 1000,
          onError: (error) => {
            throw error;
          },
        });
        projections.push(projection);
        return projection;
      },
    };
  }

  beforeEach(async () => {
    dataDir = tempDataDir();
    client = new FakeEventStoreDbClient();
    store = new EventStoreDbEventStore(client);
    services = await openServices(dataDir, { decorate: { eventStore: () => store } });
    storage = services;
    projections = [];
    wiring = wire(services);
  });
  afterEach(async () => {
    for (const projection of projections) await projection.stop();
    await services.close();
    removeDir(dataDir);
  });

  it('answers a read that waits for the head at once, though the log ends with a release and system events it is never handed', async () => {
    const projection = wiring.projection();
    projection.start();
    const created = await wiring.create({ external_id: 'first' });
    await projection.waitFor(created.position);
    const updated = await wiring.update(created.accountId, { external_id: 'second' });
    client.writeRaw('$stats-127.0.0.1:2113', [{ type: '$statsCollected' }]);
    const last = client.log.at(-2)!;
    expect(last.stream.startsWith(RESERVATION_STREAM_PREFIX)).toBe(true);
    expect(last.type).toBe('external_id.released');

    const started = Date.now();
    await projection.waitForHead(3000);
    expect(Date.now() - started).toBeLessThan(1000);
    const row = await storage.readModel.get(TENANT, created.accountId);
    expect(row).toMatchObject({ external_id: 'second', revision: updated.revision });
  });

  it('catches up from its stored checkpoint after a restart, and applies each event once', async () => {
    const first = wiring.projection();
    first.start();
    const a = await wiring.create({ external_id: 'a' });
    await first.waitFor(a.position);
    await first.stop();
    const checkpoint = await storage.readModel.checkpoint();

    const b = await wiring.create({ external_id: 'b' });
    await wiring.update(a.accountId, { external_id: 'a2' });
    const again = wiring.projection();
    await again.waitForHead(3000);
    expect(await storage.readModel.checkpoint() > checkpoint).toBe(true);
    expect(await storage.readModel.get(TENANT, a.accountId)).toMatchObject({ external_id: 'a2', revision: 1n });
    expect(await storage.readModel.get(TENANT, b.accountId)).toMatchObject({ external_id: 'b', revision: 0n });
    expect(client.log.filter((e) => e.stream === accountStream(a.accountId))).toHaveLength(2);
  });
});
