import { CommandBus } from '@nestjs/cqrs';
import { CreateAccountCommand } from '../../src/accounts/application/create-account';
import { WriteResult } from '../../src/accounts/application/run-account-command';
import { AccountProjection } from '../../src/accounts/projection/account-projection';
import { Actor } from '../../src/kernel/tenant';
import { ACCOUNTS, appForEachSuite, TestApp } from '../support/app-harness';
import { follow, idsOf, issueKey, listAccounts, walkBackward, walkForward } from '../support/list-helpers';

jest.setTimeout(60_000);

const changeStatus = (t: TestApp, id: string, status: string, key: string) =>
  t.http().post(`${ACCOUNTS}/${id}/status`).set('X-Api-Key', key).send({ data: { type: 'account-status-change', attributes: { status } } }).expect(200);

describe('GET /accounts: filters', () => {
  const t = appForEachSuite();
  let key: string;
  /** Oldest first, as created, with the status each was moved to. */
  const made: { id: string; external_id: string; status: string; entity_type: string }[] = [];
  const newestFirst = (keep: (a: (typeof made)[number]) => boolean) => made.filter(keep).map((a) => a.id).reverse();

  beforeAll(async () => {
    key = await issueKey(t, 'filters-org');
    const statuses = ['pending', 'active', 'suspended', 'inactive'];
    for (let i = 0; i < 12; i++) {
      const entity_type = i % 3 === 0 ? 'business' : 'person';
      const external_id = `filter-user-${i}`;
      const { id } = (await t.create({ entity_type, external_id }, key).expect(201)).body.data;
      const status = statuses[i % 4];
      if (status !== 'pending') await changeStatus(t, id, status, key);
      made.push({ id, external_id, status, entity_type });
    }
  });

  it('lists the tenant\'s accounts newest first, each exactly as GET answers it', async () => {
    const response = await listAccounts(t, '', key).expect(200);
    expect(response.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(idsOf(response.body)).toEqual(newestFirst(() => true));
    expect(response.body.links).toEqual({ prev: null, next: null });
    for (const resource of response.body.data) expect(resource).toEqual((await t.get(resource.id, key).expect(200)).body.data);
  });

  it.each(['pending', 'active', 'suspended', 'inactive'])('filters by status=%s', async (status) => {
    const response = await listAccounts(t, `filter[status]=${status}`, key).expect(200);
    expect(idsOf(response.body)).toEqual(newestFirst((a) => a.status === status));
    expect(response.body.data.every((r: { attributes: { status: string } }) => r.attributes.status === status)).toBe(true);
  });

  it.each(['person', 'business'])('filters by entity_type=%s', async (entityType) => {
    const response = await listAccounts(t, `filter[entity_type]=${entityType}`, key).expect(200);
    expect(idsOf(response.body)).toEqual(newestFirst((a) => a.entity_type === entityType));
  });

  it('combines status and entity_type', async () => {
    for (const status of ['pending', 'active']) {
      for (const entityType of ['person', 'business']) {
        const response = await listAccounts(t, `filter[status]=${status}&filter[entity_type]=${entityType}`, key).expect(200);
        expect(idsOf(response.body)).toEqual(newestFirst((a) => a.status === status && a.entity_type === entityType));
      }
    }
  });

  it('looks up by external_id: one account, or none; combined with the other filters', async () => {
    const target = made[5];
    const found = await listAccounts(t, `filter[external_id]=${target.external_id}`, key).expect(200);
    expect(idsOf(found.body)).toEqual([target.id]);
    expect(found.body.links).toEqual({ prev: null, next: null });
    expect(found.body.data[0]).toEqual((await t.get(target.id, key)).body.data);

    const all = `filter[external_id]=${target.external_id}&filter[status]=${target.status}&filter[entity_type]=${target.entity_type}`;
    expect(idsOf((await listAccounts(t, all, key).expect(200)).body)).toEqual([target.id]);
    const otherStatus = target.status === 'active' ? 'inactive' : 'active';
    expect((await listAccounts(t, `filter[external_id]=${target.external_id}&filter[status]=${otherStatus}`, key).expect(200)).body.data).toEqual([]);
    const none = await listAccounts(t, 'filter[external_id]=nobody-has-this', key).expect(200);
    expect(none.body).toEqual({ data: [], links: { prev: null, next: null } });
  });

  it('keeps tenants apart: same external_id in another tenant, each lookup sees only its own', async () => {
    const otherKey = await issueKey(t, 'filters-other-org');
    const productionKey = await issueKey(t, 'filters-org', undefined, 'production');
    const target = made[2];
    const theirs = (await t.create({ entity_type: 'person', external_id: target.external_id }, otherKey).expect(201)).body.data.id;
    const prod = (await t.create({ entity_type: 'person', external_id: target.external_id }, productionKey).expect(201)).body.data.id;
    expect(idsOf((await listAccounts(t, `filter[external_id]=${target.external_id}`, key).expect(200)).body)).toEqual([target.id]);
    expect(idsOf((await listAccounts(t, `filter[external_id]=${target.external_id}`, otherKey).expect(200)).body)).toEqual([theirs]);
    expect(idsOf((await listAccounts(t, `filter[external_id]=${target.external_id}`, productionKey).expect(200)).body)).toEqual([prod]);
    expect(idsOf((await listAccounts(t, '', otherKey).expect(200)).body)).toEqual([theirs]);
    expect(idsOf((await listAccounts(t, '', key).expect(200)).body)).not.toContain(theirs);
  });

  it('refuses bad parameters with 400 and source.parameter, every problem at once', async () => {
    const one = async (query: string, parameter: string, code = 'invalid_parameter') => {
      const response = await listAccounts(t, query, key).expect(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ status: '400', code, source: { parameter } })]);
    };
    await one('page[size]=101', 'page[size]');
    await one('page[size]=0', 'page[size]');
    await one('page[size]=seven', 'page[size]');
    await one('filter[status]=bogus', 'filter[status]');
    await one('filter[entity_type]=robot', 'filter[entity_type]');
    await one('filter[external_id]=', 'filter[external_id]');
    await one(`filter[external_id]=${'x'.repeat(256)}`, 'filter[external_id]');
    await one('filter[colour]=red', 'filter[colour]');
    await one('sort=-created_at', 'sort');
    await one('filter[status]=active&filter[status]=pending', 'filter[status]');
    await one('page[after]=not-a-cursor', 'page[after]', 'invalid_cursor');
    await one('page[before]=%%%', 'page[before]', 'invalid_cursor');
    const forged = Buffer.from(JSON.stringify(['yesterday', 'acc_x', 0])).toString('base64url');
    await one(`page[after]=${forged}`, 'page[after]', 'invalid_cursor');
    const notJson = Buffer.from('[1,2').toString('base64url');
    await one(`page[after]=${notJson}`, 'page[after]', 'invalid_cursor');

    const next = (await listAccounts(t, 'page[size]=2', key).expect(200)).body.links.next as string;
    const cursor = new URL(next).searchParams.get('page[after]')!;
    await one(`page[after]=${cursor}&page[before]=${cursor}`, 'page[before]');

    const many = await listAccounts(t, 'page[size]=1000&filter[status]=bogus&page[after]=zzz', key).expect(400);
    expect(many.body.errors.map((e: { source: { parameter: string } }) => e.source.parameter).sort()).toEqual(['filter[status]', 'page[after]', 'page[size]']);

    // A long query string of bad parameters buys at most 100 listed problems.
    const flood = Array.from({ length: 500 }, (_, i) => `filter[f${i}]=x`).join('&');
    const capped = await listAccounts(t, flood, key).expect(400);
    expect(capped.body.errors).toHaveLength(101);
    expect(capped.body.errors[100]).toMatchObject({ code: 'too_many_problems', meta: { not_listed: 400 } });
  });

  it('needs accounts:read, and a key', async () => {
    const writeOnly = await issueKey(t, 'filters-org', ['accounts:write']);
    const refused = await listAccounts(t, '', writeOnly).expect(403);
    expect(refused.body.errors[0]).toMatchObject({ code: 'insufficient_scope', meta: { required_scope: 'accounts:read' } });
    await t.http().get(ACCOUNTS).expect(401);
  });
});

describe('GET /accounts: cursor pagination', () => {
  const t = appForEachSuite();
  let key: string;
  /** Newest first. */
  let all: string[];

  beforeAll(async () => {
    key = await issueKey(t, 'pages-org');
    const created: string[] = [];
    for (let i = 0; i < 40; i++) created.push((await t.create({ entity_type: i % 2 ? 'person' : 'business', external_id: `page-user-${i}` }, key).expect(201)).body.data.id);
    all = created.reverse();
  });

  it('defaults to 15 per page and links with full URLs that repeat filters and size', async () => {
    const first = await listAccounts(t, '', key).expect(200);
    expect(idsOf(first.body)).toEqual(all.slice(0, 15));
    expect(first.body.links.prev).toBeNull();
    const next = new URL(first.body.links.next);
    expect(next.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(next.pathname).toBe(ACCOUNTS);
    expect(next.searchParams.get('page[size]')).toBe('15');

    const filtered = await listAccounts(t, 'filter[entity_type]=person&page[size]=4', key).expect(200);
    const link = new URL(filtered.body.links.next).searchParams;
    expect(link.get('filter[entity_type]')).toBe('person');
    expect(link.get('page[size]')).toBe('4');
    const second = await follow(t, filtered.body.links.next, key).expect(200);
    expect(second.body.data.every((r: { attributes: { entity_type: string } }) => r.attributes.entity_type === 'person')).toBe(true);
    expect((await listAccounts(t, 'page[size]=100', key).expect(200)).body.data).toHaveLength(40);
  });

  it('walks forwards and backwards over 40 accounts, 7 a page: each exactly once, in order', async () => {
    const forward = await walkForward(t, 'page[size]=7', key);
    expect(forward.pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 5]);
    expect(forward.pages.flat()).toEqual(all);
    expect(forward.last.links.next).toBeNull();

    const backward = await walkBackward(t, forward.last, key);
    expect(backward.flat()).toEqual(all);
    expect(backward.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 5]);
  });

  it('skips nothing and repeats nothing while accounts are created between page requests', async () => {
    let n = 0;
    const createOne = async () => (await t.create({ entity_type: 'person', external_id: `between-${n++}` }, key).expect(201)).body.data.id as string;
    const forward = await walkForward(t, 'page[size]=7', key, createOne);
    // The new accounts are newer than the first page: a forward walk neither sees nor repeats anything.
    expect(forward.pages.flat()).toEqual(all);

    const newDuringBackward: string[] = [];
    const backward = (await walkBackward(t, forward.last, key, async () => newDuringBackward.push(await createOne()))).flat();
    expect(new Set(backward).size).toBe(backward.length);
    for (const id of all) expect(backward.filter((x) => x === id)).toHaveLength(1);
    // In the list's order: the walk is exactly the tail of the whole list, from where it ended.
    const now = (await walkForward(t, 'page[size]=100', key)).pages.flat();
    expect(now.slice(now.length - backward.length)).toEqual(backward);
    expect(backward.slice(-all.length)).toEqual(all);
  });

  it('answers a page emptied meanwhile with a prev link back to the accounts before it', async () => {
    // Walk to the second-to-last page of the pending accounts, then move every account of the last
    // page out of the filter: following next now finds nothing, and prev leads back.
    let page = (await listAccounts(t, 'filter[status]=pending&page[size]=7', key).expect(200)).body;
    let following = (await follow(t, page.links.next, key).expect(200)).body;
    while (following.links.next) {
      page = following;
      following = (await follow(t, page.links.next, key).expect(200)).body;
    }
    for (const id of idsOf(following)) await changeStatus(t, id, 'suspended', key);

    const empty = await follow(t, page.links.next, key).expect(200);
    expect(empty.body.data).toEqual([]);
    expect(empty.body.links.next).toBeNull();
    const back = await follow(t, empty.body.links.prev, key).expect(200);
    expect(idsOf(back.body)).toEqual(idsOf(page));
    expect(back.body.links.next).toBeNull();
    expect(back.body.links.prev).not.toBeNull();
  });
});

describe('GET /accounts: read-your-writes', () => {
  const t = appForEachSuite();

  it('finds an account by external_id at once after its create', async () => {
    for (let i = 0; i < 10; i++) {
      const { id } = (await t.create({ entity_type: 'person', external_id: `ryw-${i}` }).expect(201)).body.data;
      expect(idsOf((await listAccounts(t, `filter[external_id]=ryw-${i}`).expect(200)).body)).toEqual([id]);
    }
  });

  it('finds a write that was acknowledged before the read model saw it', async () => {
    // The command bus acknowledges once the event is stored, without waiting for the read model (as
    // a create answered 503 read_model_lagging would); with the projection idle, only the lookup's
    // own catch-up to the head of the store can find it.
    const projection = t.app.get(AccountProjection);
    await projection.stop();
    try {
      const actor: Actor = { tenant: { organization_id: 'default', environment: 'staging' }, api_key_id: 'key_test', request_id: 'req_ryw', correlation_id: 'req_ryw' };
      const written = await t.app.get(CommandBus).execute<CreateAccountCommand, WriteResult>(
        new CreateAccountCommand(actor, { entity_type: 'person', external_id: 'acknowledged-only' }),
      );
      expect(idsOf((await listAccounts(t, 'filter[external_id]=acknowledged-only').expect(200)).body)).toEqual([written.accountId]);
    } finally {
      projection.start();
    }
  });
});
