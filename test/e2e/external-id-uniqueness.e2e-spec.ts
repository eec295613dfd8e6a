import { AccountRepository, accountStream } from '../../src/accounts/application/account-repository';
import {
  AccountCreationAbandoned,
  EXTERNAL_ID_RELEASED,
  EXTERNAL_ID_RESERVED,
  ExternalIdReservations,
} from '../../src/accounts/application/external-id-reservations';
import { runAccountCommand } from '../../src/accounts/application/run-account-command';
import { ACCOUNT_UPDATED } from '../../src/accounts/domain/events';
import { Services } from '../../src/composition-root';
import { SERVICES } from '../../src/nest-services';
import { Clock } from '../../src/kernel/clock';
import { RandomIdFactory } from '../../src/kernel/ids';
import { Actor } from '../../src/kernel/tenant';
import { EventStore, NO_STREAM, WrongExpectedRevision } from '../../src/storage/event-store.port';
import { appForEachSuite, TestApp } from '../support/app-harness';
import { freshFolds } from '../support/fresh-folds';
import { idsOf, issueKey, listAccounts } from '../support/list-helpers';

jest.setTimeout(60_000);

const actor: Actor = { tenant: { organization_id: 'default', environment: 'staging' }, api_key_id: 'key_test', request_id: 'req_test', correlation_id: 'req_test' };

const expectTaken = (response: { status: number; body: { errors: unknown[] } }, holder: string) => {
  expect(response.status).toBe(409);
  expect(response.body.errors).toEqual([
    expect.objectContaining({ status: '409', code: 'external_id_taken', meta: { account_id: holder }, source: { pointer: '/data/attributes/external_id' } }),
  ]);
};

const lookup = async (t: TestApp, externalId: string, key = t.key) => idsOf((await listAccounts(t, `filter[external_id]=${externalId}`, key).expect(200)).body);

describe('external_id is unique per tenant', () => {
  const t = appForEachSuite();

  it('lets exactly one of 25 concurrent creates have it; the others answer 409 naming the holder', async () => {
    const responses = await Promise.all(Array.from({ length: 25 }, () => t.create({ entity_type: 'person', external_id: 'contested-1' })));
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const holder = created[0].body.data.id;
    for (const response of responses.filter((r) => r.status !== 201)) expectTaken(response, holder);
    expect(await lookup(t, 'contested-1')).toEqual([holder]);
  });

  it('refuses a PATCH to a taken external_id, naming the holder, and changes nothing', async () => {
    const holder = (await t.create({ entity_type: 'person', external_id: 'patch-taken' }).expect(201)).body.data.id;
    const other = (await t.create({ entity_type: 'person', external_id: 'patch-mine' }).expect(201)).body.data.id;
    expectTaken(await t.patch(other, { external_id: 'patch-taken' }), holder);
    const read = await t.get(other).expect(200);
    expect(read.body.data.attributes.external_id).toBe('patch-mine');
    expect(read.headers.etag).toBe('"0"');
  });

  it('frees the old external_id when a PATCH moves the account to a free one', async () => {
    const a = (await t.create({ entity_type: 'person', external_id: 'move-old' }).expect(201)).body.data.id;
    expect((await t.patch(a, { external_id: 'move-new' }).expect(200)).body.data.attributes.external_id).toBe('move-new');
    const b = (await t.create({ entity_type: 'person', external_id: 'move-old' }).expect(201)).body.data.id;
    expect(await lookup(t, 'move-old')).toEqual([b]);
    expect(await lookup(t, 'move-new')).toEqual([a]);
    expectTaken(await t.patch(a, { external_id: 'move-old' }), b);

    const store = t.app.get(EventStore);
    const stream = t.app.get(ExternalIdReservations).streamOf(actor.tenant, 'move-old');
    expect(stream).toMatch(/^external-id-[0-9a-f]{64}$/);
    const events = await store.readStream(stream);
    expect(events.map((e) => [e.type, e.data.account_id])).toEqual([
      [EXTERNAL_ID_RESERVED, a],
      [EXTERNAL_ID_RELEASED, a],
      [EXTERNAL_ID_RESERVED, b],
    ]);
  });

  it('frees it when a PATCH clears it, and a PATCH that keeps it changes nothing', async () => {
    const a = (await t.create({ entity_type: 'person', external_id: 'clear-me' }).expect(201)).body.data.id;
    expect((await t.patch(a, { external_id: 'clear-me' }).expect(200)).headers.etag).toBe('"0"');
    await t.patch(a, { external_id: null }).expect(200);
    const b = (await t.create({ entity_type: 'person', external_id: 'clear-me' }).expect(201)).body.data.id;
    expect(await lookup(t, 'clear-me')).toEqual([b]);
  });

  it('swaps two accounts\' external_ids through a third, free one', async () => {
    const a = (await t.create({ entity_type: 'person', external_id: 'swap-a' }).expect(201)).body.data.id;
    const b = (await t.create({ entity_type: 'person', external_id: 'swap-b' }).expect(201)).body.data.id;
    await t.patch(a, { external_id: 'swap-tmp' }).expect(200);
    await t.patch(b, { external_id: 'swap-a' }).expect(200);
    await t.patch(a, { external_id: 'swap-b' }).expect(200);
    expect([await lookup(t, 'swap-a'), await lookup(t, 'swap-b'), await lookup(t, 'swap-tmp')]).toEqual([[b], [a], []]);
  });

  it('stays unique when creates and PATCHes race for one external_id', async () => {
    const holdersOf = async (externalId: string) =>
      [...(await freshFolds(t.dataDir)).values()]
        .map((f) => (f.body as { data: { id: string; attributes: { external_id: string | null } } }).data)
        .filter((data) => data.attributes.external_id === externalId)
        .map((data) => data.id);
    const make = (prefix: string) => Promise.all(Array.from({ length: 8 }, (_, i) => t.create({ entity_type: 'person', external_id: `${prefix}-${i}` }).expect(201)));

    const ids = (await make('racer')).map((r) => r.body.data.id as string);
    const responses = await Promise.all([
      ...ids.map((id) => t.patch(id, { external_id: 'race-target' })),
      ...Array.from({ length: 8 }, () => t.create({ entity_type: 'business', external_id: 'race-target' })),
    ]);
    expect(responses.filter((r) => r.status === 200 || r.status === 201)).toHaveLength(1);
    const [holder] = await holdersOf('race-target');
    expect(await holdersOf('race-target')).toEqual([holder]);
    for (const response of responses.filter((r) => r.status >= 400)) expectTaken(response, holder);
    expect(await lookup(t, 'race-target')).toEqual([holder]);

    // With some racers moving on to ids of their own at the same time, it ends with one holder or none.
    const others = (await make('mover')).map((r) => r.body.data.id as string);
    const mixed = await Promise.all([
      ...others.map((id) => t.patch(id, { external_id: 'race-target-2' })),
      ...Array.from({ length: 8 }, () => t.create({ entity_type: 'business', external_id: 'race-target-2' })),
      ...others.map((id, i) => t.patch(id, { external_id: `mover-${i}-moved` })),
    ]);
    for (const response of mixed) expect([200, 201, 409]).toContain(response.status);
    const after = await holdersOf('race-target-2');
    expect(after.length).toBeLessThanOrEqual(1);
    expect(await lookup(t, 'race-target-2')).toEqual(after);
  });

  it('lets another tenant use the same external_id', async () => {
    const mine = (await t.create({ entity_type: 'person', external_id: 'shared-id' }).expect(201)).body.data.id;
    const otherKey = await issueKey(t, 'uniqueness-other-org');
    const theirs = (await t.create({ entity_type: 'person', external_id: 'shared-id' }, otherKey).expect(201)).body.data.id;
    expectTaken(await t.create({ entity_type: 'person', external_id: 'shared-id' }, otherKey), theirs);
    expect(await lookup(t, 'shared-id')).toEqual([mine]);
    expect(await lookup(t, 'shared-id', otherKey)).toEqual([theirs]);
  });
});

describe('Reservations left behind by requests that died', () => {
  const t = appForEachSuite();
  const ids = new RandomIdFactory();
  const reservations = () => t.app.get(ExternalIdReservations);
  const repository = () => t.app.get(AccountRepository);
  const store = () => t.app.get(EventStore);
  const typesOf = async (stream: string) => (await store().readStream(stream)).map((e) => e.type);

  /** Reservations as a request that started an hour ago wrote them. */
  const anHourAgo = () => {
    const clock: Clock = { now: () => new Date(Date.now() - 3_600_000) };
    const services = t.app.get<Services>(SERVICES);
    return new ExternalIdReservations(store(), repository(), services.chain, services.deploymentKeys.externalIdNaming, services.ids, clock);
  };

  it('recovers an id reserved for an account that was never created: the create succeeds, the ghost id stays 404', async () => {
    const ghost = ids.accountId();
    await reservations().claim({ actor, externalId: 'orphan-fresh', accountId: ghost, expected: NO_STREAM });
    // The claim is seconds old, so it could still be a create in flight: it gets its grace first.
    const created = await t.create({ entity_type: 'person', external_id: 'orphan-fresh' }).expect(201);
    const id = created.body.data.id;
    await t.get(ghost).expect(404);
    expect(await typesOf(accountStream(ghost))).toEqual(['account.creation_abandoned']);
    expect(await reservations().holderOf(actor.tenant, 'orphan-fresh')).toBe(id);
    expect(await lookup(t, 'orphan-fresh')).toEqual([id]);

    // The ghost's own create, had it been merely slow, can never land now.
    const late = runAccountCommand(repository(), {
      accountId: ghost,
      actor,
      reservations: reservations(),
      command: () => ({ kind: 'CreateAccount', account_id: ghost, tenant: actor.tenant, attributes: { entity_type: 'person', external_id: 'orphan-fresh' }, now: '2026-01-01T00:00:00Z' }),
    });
    await expect(late).rejects.toBeInstanceOf(AccountCreationAbandoned);
    await t.get(ghost).expect(404);
    expect(idsOf((await listAccounts(t, 'page[size]=100').expect(200)).body)).not.toContain(ghost);
  });

  it('takes over an old orphaned reservation at once', async () => {
    const ghost = ids.accountId();
    await anHourAgo().claim({ actor, externalId: 'orphan-old', accountId: ghost, expected: NO_STREAM });
    const started = Date.now();
    const id = (await t.create({ entity_type: 'person', external_id: 'orphan-old' }).expect(201)).body.data.id;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await lookup(t, 'orphan-old')).toEqual([id]);
    await t.get(ghost).expect(404);
  });

  it('takes over at once from a holder that moved to another external_id but died before releasing this one', async () => {
    const a = (await t.create({ entity_type: 'person', external_id: 'stale-old' }).expect(201)).body.data.id;
    // What a PATCH to stale-new does, minus the release at the end.
    const loaded = await repository().load(a);
    await reservations().claim({ actor, externalId: 'stale-new', accountId: a, expected: loaded.revision });
    await repository().append(loaded, [{ type: ACCOUNT_UPDATED, data: { account_id: a, changed: ['external_id'], external_id: 'stale-new', updated_at: '2026-01-01T00:00:00Z' } }], actor);
    expect(await reservations().holderOf(actor.tenant, 'stale-old')).toBe(a);

    const started = Date.now();
    const b = (await t.create({ entity_type: 'person', external_id: 'stale-old' }).expect(201)).body.data.id;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await lookup(t, 'stale-old')).toEqual([b]);
    expect(await lookup(t, 'stale-new')).toEqual([a]);
  });

  it('fences a PATCH that claimed an id and never wrote: the account is unchanged, the id goes to the next claimer', async () => {
    const a = (await t.create({ entity_type: 'person', external_id: 'pending-mine' }).expect(201)).body.data.id;
    const before = await repository().load(a);
    await anHourAgo().claim({ actor, externalId: 'pending-wanted', accountId: a, expected: before.revision });

    const b = (await t.create({ entity_type: 'person', external_id: 'pending-wanted' }).expect(201)).body.data.id;
    expect(await typesOf(accountStream(a))).toEqual(['account.created', 'account.external_id_change_abandoned']);
    const read = await t.get(a).expect(200);
    expect(read.body.data.attributes).toMatchObject({ external_id: 'pending-mine', updated_at: null });
    expect(read.headers.etag).toBe('"1"');
    // The PATCH's write, had it been merely slow, fails on the revision it expected; run again, it learns the id is taken.
    const late = repository().append(before, [{ type: ACCOUNT_UPDATED, data: { account_id: a, changed: ['external_id'], external_id: 'pending-wanted', updated_at: '2026-01-01T00:00:00Z' } }], actor);
    await expect(late).rejects.toBeInstanceOf(WrongExpectedRevision);
    expectTaken(await t.patch(a, { external_id: 'pending-wanted' }), b);
  });

  it('does not fence a holder whose write lands within the grace', async () => {
    const ghost = ids.accountId();
    await reservations().claim({ actor, externalId: 'slow-create', accountId: ghost, expected: NO_STREAM });
    const contender = t.create({ entity_type: 'person', external_id: 'slow-create' }).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The slow create lands, under the id it reserved.
    await runAccountCommand(repository(), {
      accountId: ghost,
      actor,
      reservations: reservations(),
      command: () => ({ kind: 'CreateAccount', account_id: ghost, tenant: actor.tenant, attributes: { entity_type: 'person', external_id: 'slow-create' }, now: '2026-01-01T00:00:00Z' }),
    });
    expectTaken(await contender, ghost);
    expect(await typesOf(accountStream(ghost))).toEqual(['account.created']);
  });
});
