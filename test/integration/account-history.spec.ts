import { REDACTED_VALUE } from '../../src/accounts/application/account-event-codec';
import { runAccountCommand } from '../../src/accounts/application/run-account-command';
import { decide } from '../../src/accounts/domain/decide';
import { Services } from '../../src/composition-root';
import { Actor } from '../../src/kernel/tenant';
import { removeDir, tempDataDir } from '../support/app-harness';
import { openServices } from '../support/services';

// The reviewers' read side on a real store, in the states HTTP cannot hold still long enough to
// observe: a redaction whose key shredding has not happened yet, and events from before sealed_fields.

const actor: Actor = { tenant: { organization_id: 'acme', environment: 'staging' }, api_key_id: 'key_history', request_id: 'req_history', correlation_id: 'req_history' };
const EMAIL = 'prudence.quill@history-test.example';
const REASON = 'reported by Bartholomew Ashdown';

describe('AccountHistory', () => {
  let dir: string;
  let services: Services;
  beforeEach(async () => {
    dir = tempDataDir();
    services = await openServices(dir);
  });
  afterEach(async () => {
    await services.close();
    removeDir(dir);
  });

  async function lifeOf(id: string) {
    const run = (command: Parameters<typeof runAccountCommand>[1]['command']) =>
      runAccountCommand(services.repository, { accountId: id, actor, reservations: services.reservations, command });
    await run(() => ({ kind: 'CreateAccount', account_id: id, tenant: actor.tenant, attributes: { entity_type: 'person', contact: { email: EMAIL } }, now: '2026-01-01T00:00:00Z' }));
    await run(() => ({ kind: 'ChangeStatus', status: 'suspended', reason: REASON, now: '2026-01-02T00:00:00Z' }));
  }

  it('shows nothing personal once the account is redacted, even while its data key still exists', async () => {
    const id = services.ids.accountId();
    await lifeOf(id);
    // Stored, but the process died before destroying the key (the projection finishes that later).
    const loaded = await services.repository.load(id);
    await services.repository.append(loaded, decide({ kind: 'RedactAccount', now: '2026-01-03T00:00:00Z' }, loaded.state), actor);
    expect(await services.dataKeys.get(id)).not.toBeNull();

    const trail = (await services.history.trail(id))!;
    expect(trail.redacted).toBe(true);
    const entries = await services.history.review(trail, trail.events);
    expect(JSON.stringify(entries.map((e) => e.changes))).not.toMatch(new RegExp(`${EMAIL}|${REASON}`));
    expect(entries[0].changes.contact).toBe(REDACTED_VALUE);
    expect(entries[1].changes).toMatchObject({ from: 'pending', to: 'suspended', reason: REDACTED_VALUE });
    const at = await services.history.stateAt(trail, (event) => event.revision <= 1n);
    expect(at).toMatchObject({ revision: 1n, redacted: true, account: { status: 'suspended', contact: null } });
  });

  it('opens what it may, and names the sealed fields of events written before sealed_fields existed', async () => {
    const id = services.ids.accountId();
    await lifeOf(id);
    const trail = (await services.history.trail(id))!;
    const [opened] = await services.history.review(trail, trail.events.slice(0, 1));
    expect(opened.changes.contact).toEqual({ email: EMAIL, phone: null });

    await services.cipher.shred(id);
    const legacy = trail.events.map((event) => {
      const { sealed_fields: _names, ...data } = event.data;
      return { ...event, data };
    });
    const entries = await services.history.review(trail, legacy);
    expect(Object.entries(entries[0].changes).filter(([, value]) => value === REDACTED_VALUE).map(([name]) => name)).toEqual([
      'person', 'business', 'contact', 'address', 'identity_numbers',
    ]);
    expect(entries[1].changes.reason).toBe(REDACTED_VALUE);
  });

  it('is null for an id with no account, and for another tenant', async () => {
    const id = services.ids.accountId();
    await lifeOf(id);
    expect(await services.history.trail(services.ids.accountId())).toBeNull();
    expect(await services.history.trail(id, { organization_id: 'acme', environment: 'production' })).toBeNull();
    expect(await services.history.trail(id, actor.tenant)).not.toBeNull();
  });
});
