import { setTimeout as sleep } from 'node:timers/promises';
import { Scope } from '../../src/auth/api-key';
import { ApiKeys } from '../../src/auth/api-keys';
import { ACCOUNTS, appForEachSuite, TestApp } from '../support/app-harness';
import { follow } from '../support/list-helpers';

// What an audit reviewer reads: an account's event trail (GET /accounts/{id}/events) and the
// account as it was at any revision or time (GET /accounts/{id}?as_of=).

const PERSONAL = {
  first: 'Marguerite', last: 'Oyelowo-Fairbanks', birth: '1979-08-21', email: 'marguerite.of@inbox-aud.example', phone: '+447700900456',
  newEmail: 'm.fairbanks@newbox-aud.example', line1: '12 Larkspur Row', ssn: '512-44-9087', suspendReason: 'passport expired, flagged by Ingrid Vasquez-Holt',
};
const REACTIVATE_REASON = 'new passport checked';

interface Key {
  key: string;
  id: string;
}

async function issue(t: TestApp, scopes: Scope[], organization = 'default'): Promise<Key> {
  const { key, record } = await t.app.get(ApiKeys).create(organization, 'staging', scopes);
  return { key, id: record.id };
}

const send = (t: TestApp, method: 'post' | 'patch', path: string, key: Key, requestId: string, body?: object) => {
  const request = t.http()[method](`${ACCOUNTS}${path}`).set('X-Api-Key', key.key).set('X-Request-Id', requestId);
  return body === undefined ? request : request.set('Content-Type', 'application/json').send(body);
};

const eventsOf = (t: TestApp, id: string, key: Key | string, query = '') =>
  t.http().get(`${ACCOUNTS}/${id}/events${query ? `?${query}` : ''}`).set('X-Api-Key', typeof key === 'string' ? key : key.key);

const asOf = (t: TestApp, id: string, value: string, key: Key | string) =>
  t.http().get(`${ACCOUNTS}/${id}?as_of=${encodeURIComponent(value)}`).set('X-Api-Key', typeof key === 'string' ? key : key.key);

interface EventResource {
  type: string;
  id: string;
  attributes: {
    event_type: string;
    revision: number;
    occurred_at: string;
    actor: { organization_id: string; environment: string; api_key_id: string };
    request_id: string;
    correlation_id: string;
    changes: Record<string, unknown>;
    prev_hash: string | null;
    hash: string;
  };
}

/** Every page of the trail, following links.next from the first. */
async function walk(t: TestApp, id: string, key: Key, query: string) {
  const pages: EventResource[][] = [];
  let body = (await eventsOf(t, id, key, query).expect(200)).body;
  pages.push(body.data);
  while (body.links.next) {
    body = (await follow(t, body.links.next, key.key).expect(200)).body;
    pages.push(body.data);
  }
  return { pages, last: body };
}

describe('An account\'s life, read back by an audit reviewer', () => {
  const t = appForEachSuite();
  let writer: Key;
  let editor: Key;
  let reviewer: Key;
  let reader: Key;
  /** as_of is a read of the account (accounts:read) that shows its history (audit:read). */
  let auditor: Key;
  let id: string;
  /** The account after each write, as the write answered it: index = revision. */
  const states: { attributes: Record<string, unknown>; etag: string }[] = [];

  beforeAll(async () => {
    writer = await issue(t, ['accounts:write', 'accounts:read']);
    editor = await issue(t, ['accounts:write']);
    reviewer = await issue(t, ['audit:read']);
    reader = await issue(t, ['accounts:read']);
    auditor = await issue(t, ['accounts:read', 'audit:read']);
    const steps: [string, () => ReturnType<typeof send>][] = [
      ['req-create', () => send(t, 'post', '', writer, 'req-create', { data: { type: 'account', attributes: {
        external_id: 'audited-1', entity_type: 'person',
        person: { name: { first: PERSONAL.first, last: PERSONAL.last }, birth_date: PERSONAL.birth },
        contact: { email: PERSONAL.email, phone: PERSONAL.phone },
        identity_numbers: [{ number: PERSONAL.ssn, class: 'ssn', issuing_country_code: 'US' }],
      } } })],
      ['req-patch-email', () => send(t, 'patch', `/${id}`, editor, 'req-patch-email', { data: { type: 'account', id, attributes: { contact: { email: PERSONAL.newEmail } } } })],
      ['req-patch-address', () => send(t, 'patch', `/${id}`, writer, 'req-patch-address', { data: { type: 'account', id, attributes: { address: { line1: PERSONAL.line1, country_code: 'GB' }, external_id: 'audited-1b' } } })],
      ['req-suspend', () => send(t, 'post', `/${id}/status`, editor, 'req-suspend', { data: { type: 'account-status-change', attributes: { status: 'suspended', reason: PERSONAL.suspendReason } } }).set('X-Correlation-Id', 'case-4711')],
      ['req-activate', () => send(t, 'post', `/${id}/status`, writer, 'req-activate', { data: { type: 'account-status-change', attributes: { status: 'active', reason: REACTIVATE_REASON } } })],
    ];
    for (const [, step] of steps) {
      const response = await step();
      expect([200, 201]).toContain(response.status);
      id ??= response.body.data.id;
      states.push({ attributes: response.body.data.attributes, etag: response.headers.etag });
      // Distinct store times, so that there are moments between events to travel to.
      await sleep(15);
    }
  });

  const redact = () => send(t, 'post', `/${id}/redact`, writer, 'req-redact').expect(200);

  it('lists every event oldest first: type, revision, time, actor, request, changes and the hash chain', async () => {
    const { body } = await eventsOf(t, id, reviewer).expect(200);
    const events: EventResource[] = body.data;
    expect(events.map((e) => [e.type, e.attributes.event_type, e.attributes.revision])).toEqual([
      ['account-event', 'account.created', 0],
      ['account-event', 'account.updated', 1],
      ['account-event', 'account.updated', 2],
      ['account-event', 'account.status_changed', 3],
      ['account-event', 'account.status_changed', 4],
    ]);
    expect(events.map((e) => e.attributes.actor)).toEqual(
      [writer, editor, writer, editor, writer].map((key) => ({ organization_id: 'default', environment: 'staging', api_key_id: key.id })),
    );
    expect(events.map((e) => e.attributes.request_id)).toEqual(['req-create', 'req-patch-email', 'req-patch-address', 'req-suspend', 'req-activate']);
    expect(events[3].attributes.correlation_id).toBe('case-4711');
    expect(events[4].attributes.correlation_id).toBe('req-activate');
    // The store's time, to the millisecond, never going back.
    const times = events.map((e) => e.attributes.occurred_at);
    for (const time of times) expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect([...times].sort()).toEqual(times);
    // Each event names its predecessor's hash.
    expect(events.map((e) => e.attributes.prev_hash)).toEqual([null, ...events.slice(0, -1).map((e) => e.attributes.hash)]);
    for (const event of events) expect(event.attributes.hash).toMatch(/^[0-9a-f]{64}$/);

    // The changes, opened: who set what, and why the status moved.
    expect(events[0].attributes.changes).toMatchObject({
      entity_type: 'person', external_id: 'audited-1',
      person: { name: { first: PERSONAL.first, last: PERSONAL.last }, birth_date: PERSONAL.birth },
      contact: { email: PERSONAL.email, phone: PERSONAL.phone },
      identity_numbers: [{ number: PERSONAL.ssn, class: 'ssn', issuing_country_code: 'US' }],
    });
    expect(events[1].attributes.changes).toEqual({ changed: ['contact'], contact: { email: PERSONAL.newEmail, phone: PERSONAL.phone }, updated_at: expect.any(String) });
    expect(events[2].attributes.changes).toMatchObject({ changed: ['external_id', 'address'], external_id: 'audited-1b', address: { line1: PERSONAL.line1, country_code: 'GB' } });
    expect(events[3].attributes.changes).toEqual({ from: 'pending', to: 'suspended', reason: PERSONAL.suspendReason, changed_at: expect.any(String) });
    expect(events[4].attributes.changes).toEqual({ from: 'suspended', to: 'active', reason: REACTIVATE_REASON, changed_at: expect.any(String) });
    // Never the key itself.
    for (const key of [writer, editor]) expect(JSON.stringify(body)).not.toContain(key.key);
  });

  it('pages like the list: page[size], links.next and links.prev as full URLs, filter[event_type] kept in them', async () => {
    const { pages, last } = await walk(t, id, reviewer, 'page[size]=2');
    expect(pages.map((page) => page.map((e) => e.attributes.revision))).toEqual([[0, 1], [2, 3], [4]]);
    expect(last.links.next).toBeNull();
    expect(last.links.prev).toMatch(new RegExp(`^http://127\\.0\\.0\\.1(:\\d+)?${ACCOUNTS}/${id}/events\\?page%5Bsize%5D=2&page%5Bbefore%5D=`));
    // And back from the last page to the first.
    const back: number[][] = [];
    let body = last;
    while (body.links.prev) {
      body = (await follow(t, body.links.prev, reviewer.key).expect(200)).body;
      back.unshift(body.data.map((e: EventResource) => e.attributes.revision));
    }
    expect(back).toEqual([[0, 1], [2, 3]]);
    expect(body.links.prev).toBeNull();

    const statusOnly = await walk(t, id, reviewer, 'filter[event_type]=account.status_changed&page[size]=1');
    expect(statusOnly.pages.map((page) => page.map((e) => [e.attributes.revision, e.attributes.changes.to]))).toEqual([[[3, 'suspended']], [[4, 'active']]]);
    expect(decodeURIComponent(statusOnly.last.links.prev)).toContain('filter[event_type]=account.status_changed');
    const both = (await eventsOf(t, id, reviewer, 'filter[event_type]=account.created,account.status_changed').expect(200)).body.data;
    expect(both.map((e: EventResource) => e.attributes.revision)).toEqual([0, 3, 4]);
  });

  it('answers 403 without audit:read, 404 for another tenant\'s or an unknown account, 400 naming a bad parameter', async () => {
    const refused = await eventsOf(t, id, reader).expect(403);
    expect(refused.body.errors[0]).toMatchObject({ code: 'insufficient_scope', meta: { required_scope: 'audit:read' } });
    const stranger = await issue(t, ['audit:read'], 'another-org');
    expect((await eventsOf(t, id, stranger).expect(404)).body.errors[0].code).toBe('account_not_found');
    await eventsOf(t, 'acc_01HQ00000000000000000000ZZ', reviewer).expect(404);
    await eventsOf(t, 'not-an-id', reviewer).expect(404);

    for (const [query, parameter] of [
      ['page[size]=0', 'page[size]'],
      ['page[size]=101', 'page[size]'],
      ['page[after]=bm90LWEtY3Vyc29y', 'page[after]'],
      ['page[before]=cjAx', 'page[before]'], // "r01": not the one spelling of revision 1
      ['filter[event_type]=account.deleted', 'filter[event_type]'],
      ['filter[status]=active', 'filter[status]'],
    ]) {
      const bad = await eventsOf(t, id, reviewer, query).expect(400);
      expect(bad.body.errors.map((e: { source: { parameter: string } }) => e.source.parameter)).toEqual([parameter]);
    }
  });

  it('answers the account as it was at every revision, with that revision as its ETag', async () => {
    for (const [revision, state] of states.entries()) {
      const response = await asOf(t, id, String(revision), auditor).expect(200);
      expect(response.headers.etag).toBe(`"${revision}"`);
      expect(state.etag).toBe(`"${revision}"`);
      expect(response.body.data.attributes).toEqual(state.attributes);
      expect(response.body.meta).toEqual({ as_of: { revision, occurred_at: expect.stringMatching(/\.\d{3}Z$/) }, redacted: false });
    }
    const past = await asOf(t, id, '5', auditor).expect(404);
    expect(past.body.errors[0]).toMatchObject({ code: 'account_not_found', detail: 'The account has no revision 5: its latest is 4' });
  });

  it('answers the account as it was at any time: at each event, between events, and in other offsets', async () => {
    const times = ((await eventsOf(t, id, reviewer).expect(200)).body.data as EventResource[]).map((e) => Date.parse(e.attributes.occurred_at));
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const [revision, time] of times.entries()) {
      const next = times[revision + 1] ?? time + 60_000;
      for (const moment of [time, Math.floor((time + next) / 2), next - 1]) {
        const response = await asOf(t, id, iso(moment), auditor).expect(200);
        expect([iso(moment), response.headers.etag]).toEqual([iso(moment), `"${revision}"`]);
        expect(response.body.data.attributes).toEqual(states[revision].attributes);
      }
    }
    // The same instant written with an offset, and with more digits than the store keeps.
    const plusTwo = new Date(times[3] + 2 * 3600_000).toISOString().replace('Z', '999+02:00');
    expect((await asOf(t, id, plusTwo, auditor).expect(200)).headers.etag).toBe('"3"');

    const before = await asOf(t, id, iso(times[0] - 1), auditor).expect(404);
    expect(before.body.errors[0].detail).toBe(`The account did not exist yet at ${iso(times[0] - 1)}: its first event was recorded at ${iso(times[0])}`);
  });

  it('refuses a malformed as_of with 400 naming the parameter, and as_of without audit:read with 403', async () => {
    for (const value of ['yesterday', '-1', '1.5', '01', '2026-02-30T00:00:00Z', '2026-05-01', '2026-05-01T24:00:00Z', '2026-05-01T12:00:00+25:00', '']) {
      const bad = await asOf(t, id, value, auditor).expect(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ code: 'invalid_parameter', source: { parameter: 'as_of' } })]);
    }
    const twice = await t.http().get(`${ACCOUNTS}/${id}?as_of=1&as_of=2`).set('X-Api-Key', auditor.key).expect(400);
    expect(twice.body.errors[0].source).toEqual({ parameter: 'as_of' });

    const noAudit = await asOf(t, id, '1', reader).expect(403);
    expect(noAudit.body.errors[0]).toMatchObject({ code: 'insufficient_scope', meta: { required_scope: 'audit:read' } });
    await t.get(id, reader.key).expect(200);
  });

  it('after redaction: no personal value anywhere in the trail or in the past, "[redacted]" in its place, field names still there', async () => {
    await redact();
    const { body } = await eventsOf(t, id, reviewer).expect(200);
    const text = JSON.stringify(body);
    for (const value of Object.values(PERSONAL)) expect(text).not.toContain(value);
    expect(text).toContain('[redacted]');
    const events: EventResource[] = body.data;
    expect(events.map((e) => e.attributes.event_type)).toEqual([
      'account.created', 'account.updated', 'account.updated', 'account.status_changed', 'account.status_changed', 'account.redacted',
    ]);
    expect(events[0].attributes.changes).toMatchObject({
      entity_type: 'person', external_id: 'audited-1',
      person: '[redacted]', business: '[redacted]', contact: '[redacted]', address: '[redacted]', identity_numbers: '[redacted]',
    });
    expect(events[1].attributes.changes).toEqual({ changed: ['contact'], contact: '[redacted]', updated_at: expect.any(String) });
    expect(events[2].attributes.changes).toMatchObject({ changed: ['external_id', 'address'], external_id: 'audited-1b', address: '[redacted]' });
    expect(events[3].attributes.changes).toEqual({ from: 'pending', to: 'suspended', reason: '[redacted]', changed_at: expect.any(String) });
    expect(events[5].attributes).toMatchObject({ request_id: 'req-redact', actor: { api_key_id: writer.id }, changes: { redacted_at: expect.any(String) } });
    expect(events.map((e) => e.attributes.prev_hash)).toEqual([null, ...events.slice(0, -1).map((e) => e.attributes.hash)]);

    // The past too: what it was, but for its personal data.
    const erased = { person: null, business: null, contact: null, address: null, identity_numbers: [] };
    for (const [revision, state] of states.entries()) {
      const response = await asOf(t, id, String(revision), auditor).expect(200);
      expect(response.body.data.attributes).toEqual({ ...state.attributes, ...erased });
      expect(response.body.meta.redacted).toBe(true);
      expect(JSON.stringify(response.body)).not.toContain(PERSONAL.email);
    }
  });
});
