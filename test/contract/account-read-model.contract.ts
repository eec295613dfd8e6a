import { setTimeout as sleep } from 'node:timers/promises';
import { AccountFilter, AccountReadModel, AccountRow, ListBound, ListRequest, ProjectionLease } from '../../src/accounts/projection/account-read-model.port';
import { Position, START } from '../../src/storage/event-store.port';
import type { StoreOpener } from '../support/event-store-process';
import { holdLeaseInChild } from '../support/lease-holder-process';

/** Opens instances of one read model (same files or same database), empty at the start of each test. */
export interface AccountReadModelFixture {
  open(): Promise<AccountReadModel>;
  /** How another process opens this same read model (test/support/lease-holder-process.ts). */
  inChildProcess: StoreOpener;
  dispose(): Promise<void>;
}

/** Tries for the lease every 50 ms until `withinMs`; null if it never came. */
export async function acquireWithin(readModel: AccountReadModel, withinMs: number): Promise<ProjectionLease | null> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const lease = await readModel.tryAcquireProjectionLease();
    if (lease || Date.now() > deadline) return lease;
    await sleep(50);
  }
}

export const TENANT = { organization_id: 'acme', environment: 'staging' as const };
const OTHER = { organization_id: 'other', environment: 'staging' as const };

export const SESSION = (n: number) => `sess_01HQ${String(n).padStart(22, '0')}`;
export const DOCUMENT = (n: number) => `doc_01HQ${String(n).padStart(22, '0')}`;

/** A position as the event stores write them: fixed width, so they compare as strings. */
export const position = (n: number): Position => String(n).padStart(20, '0');

export const row = (n: number, overrides: Partial<AccountRow> = {}): AccountRow => ({
  id: `acc_01HQ0000000000000000000${String(n).padStart(3, '0')}`,
  tenant: TENANT,
  status: 'pending',
  external_id: `user-${n}`,
  entity_type: 'person',
  sessions: [],
  documents: [],
  // Whole seconds, as created_at is: several accounts share one, and the id orders them.
  created_at: `2026-01-01T00:00:${String(Math.floor(n / 3)).padStart(2, '0')}Z`,
  updated_at: null,
  redacted_at: null,
  sealed_personal: null,
  revision: 0n,
  ...overrides,
});

/** Every adapter of the AccountReadModel port must pass this suite unchanged. */
export function accountReadModelContract(name: string, makeFixture: () => Promise<AccountReadModelFixture>) {
  describe(`AccountReadModel contract: ${name}`, () => {
    let fixture: AccountReadModelFixture;
    let readModel: AccountReadModel;

    beforeEach(async () => {
      fixture = await makeFixture();
      readModel = await fixture.open();
    });
    afterEach(() => fixture.dispose());

    it('starts at START and moves its checkpoint only from where it is', async () => {
      expect(await readModel.checkpoint()).toBe(START);
      expect(await readModel.commit([], position(5), position(9))).toBe(false);
      expect(await readModel.commit([], START, position(3))).toBe(true);
      expect(await readModel.checkpoint()).toBe(position(3));
      expect(await readModel.commit([], START, position(4))).toBe(false);
      expect(await readModel.commit([], position(3), position(7))).toBe(true);
      expect(await readModel.checkpoint()).toBe(position(7));
    });

    it('writes a batch of rows with its checkpoint, or nothing when the checkpoint has moved', async () => {
      expect(await readModel.commit([row(1)], START, position(1))).toBe(true);
      expect(await readModel.commit([row(1, { status: 'active', revision: 1n }), row(2)], START, position(2))).toBe(false);
      expect(await readModel.getMany([row(1).id, row(2).id])).toEqual([row(1)]);
      expect(await readModel.checkpoint()).toBe(position(1));
    });

    it('lets exactly one of two instances commit a batch from the same checkpoint', async () => {
      await readModel.commit([row(1)], START, position(1));
      const other = await fixture.open();
      const results = await Promise.all([
        readModel.commit([row(1, { status: 'active', revision: 1n })], position(1), position(2)),
        other.commit([row(1, { status: 'suspended', revision: 1n })], position(1), position(2)),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results[0] ? 'active' : 'suspended';
      expect((await other.get(TENANT, row(1).id))!.status).toBe(winner);
      expect(await other.checkpoint()).toBe(position(2));
    });

    describe('projection lease', () => {
      const held: ProjectionLease[] = [];
      const take = async (from: AccountReadModel) => {
        const lease = await from.tryAcquireProjectionLease();
        if (lease) held.push(lease);
        return lease;
      };
      afterEach(async () => {
        for (const lease of held.splice(0)) await lease.release();
      });

      it('is held by one instance at a time, and passes at once when released', async () => {
        const other = await fixture.open();
        const first = await take(readModel);
        expect(first).not.toBeNull();
        expect(await take(other)).toBeNull();
        expect(await take(readModel)).toBeNull();
        expect(first!.lost.aborted).toBe(false);

        await first!.release();
        const second = await take(other);
        expect(second).not.toBeNull();
        expect(await take(readModel)).toBeNull();
      });

      it('commits under a held lease, by compare-and-set as without one', async () => {
        const lease = (await take(readModel))!;
        expect(await readModel.commit([row(1)], START, position(1), lease)).toBe(true);
        expect(await readModel.commit([row(1, { status: 'active', revision: 1n })], START, position(2), lease)).toBe(false);
        expect(await readModel.getMany([row(1).id])).toEqual([row(1)]);
        expect(await readModel.checkpoint()).toBe(position(1));
      });

      it('passes to another process within seconds when its holder is killed with SIGKILL', async () => {
        const holder = await holdLeaseInChild(fixture.inChildProcess);
        try {
          expect(await take(readModel)).toBeNull();
          await holder.kill();
          const lease = await acquireWithin(readModel, 3000);
          if (lease) held.push(lease);
          expect(lease).not.toBeNull();
        } finally {
          await holder.kill();
        }
      });
    });

    it('reads a row back exactly as written, only within its tenant', async () => {
      const full = row(7, {
        status: 'suspended',
        external_id: null,
        entity_type: 'business',
        sessions: [SESSION(1), SESSION(2)],
        documents: [DOCUMENT(1)],
        updated_at: '2026-01-02T03:04:05Z',
        sealed_personal: 'v1.c2VhbGVk',
        revision: 12n,
      });
      await readModel.commit([full, row(8, { tenant: OTHER })], START, position(1));
      expect(await readModel.get(TENANT, full.id)).toEqual(full);
      expect(await readModel.get(OTHER, full.id)).toBeNull();
      expect(await readModel.get(TENANT, row(8).id)).toBeNull();
      expect(await readModel.get(TENANT, 'acc_unknown')).toBeNull();
      const many = await readModel.getMany([full.id, row(8).id, 'acc_unknown']);
      expect(many.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([full, row(8, { tenant: OTHER })]);
      expect(await readModel.getMany([])).toEqual([]);
    });

    it('replaces a row by a later version of it: status, external_id, redaction', async () => {
      await readModel.commit([row(1, { sealed_personal: 'v1.b2xk' })], START, position(1));
      const redacted = row(1, { status: 'active', external_id: 'user-1b', updated_at: '2026-02-01T00:00:00Z', redacted_at: '2026-02-01T00:00:00Z', revision: 3n });
      await readModel.commit([redacted], position(1), position(4));
      expect(await readModel.get(TENANT, row(1).id)).toEqual(redacted);
      expect((await readModel.list(TENANT, { external_id: 'user-1' }, { size: 10 })).rows).toEqual([]);
      expect((await readModel.list(TENANT, { external_id: 'user-1b' }, { size: 10 })).rows).toEqual([redacted]);
    });

    it('keeps its rows and checkpoint for the next instance', async () => {
      await readModel.commit([row(1), row(2)], START, position(2));
      const next = await fixture.open();
      expect(await next.checkpoint()).toBe(position(2));
      expect((await next.list(TENANT, {}, { size: 10 })).rows.map((r) => r.id)).toEqual([row(2).id, row(1).id]);
    });

    describe('lookups by a linked session or document', () => {
      const ids = async (filter: AccountFilter, request: ListRequest = { size: 100 }, tenant = TENANT) =>
        (await readModel.list(tenant, filter, request)).rows.map((r) => r.id);

      it('finds the accounts that link a session or a document, within the tenant, newest first', async () => {
        await readModel.commit(
          [
            row(1, { sessions: [SESSION(1)], documents: [DOCUMENT(1)] }),
            row(2, { sessions: [SESSION(2), SESSION(3)] }),
            // A document two accounts link (a business's registration shown for two accounts, say).
            row(4, { documents: [DOCUMENT(1), DOCUMENT(4)], status: 'active' }),
            row(5, { tenant: OTHER, sessions: [SESSION(1)] }),
          ],
          START,
          position(1),
        );
        expect(await ids({ session: SESSION(1) })).toEqual([row(1).id]);
        expect(await ids({ session: SESSION(3) })).toEqual([row(2).id]);
        expect(await ids({ document: DOCUMENT(1) })).toEqual([row(4).id, row(1).id]);
        expect(await ids({ session: SESSION(1) }, { size: 100 }, OTHER)).toEqual([row(5).id]);
        expect(await ids({ session: SESSION(9) })).toEqual([]);
        expect(await ids({ document: SESSION(1) })).toEqual([]);
        // Combined with each other and with the other filters.
        expect(await ids({ document: DOCUMENT(1), status: 'active' })).toEqual([row(4).id]);
        expect(await ids({ document: DOCUMENT(1), session: SESSION(1) })).toEqual([row(1).id]);
        expect(await ids({ document: DOCUMENT(4), session: SESSION(1) })).toEqual([]);
        expect(await ids({ document: DOCUMENT(1), external_id: 'user-4' })).toEqual([row(4).id]);
        expect(await ids({ document: DOCUMENT(1), external_id: 'user-2' })).toEqual([]);
        expect(await ids({ document: DOCUMENT(1), entity_type: 'business' })).toEqual([]);
      });

      it('follows a row as its links change, and pages the accounts of one document', async () => {
        const many = Array.from({ length: 7 }, (_, n) => row(n, { documents: [DOCUMENT(1)] }));
        await readModel.commit(many, START, position(1));
        const newestFirst = many.map((r) => r.id).reverse();
        const first = await readModel.list(TENANT, { document: DOCUMENT(1) }, { size: 3 });
        expect(first.rows.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
        const second = await readModel.list(TENANT, { document: DOCUMENT(1) }, { size: 3, after: first.older! });
        expect(second.rows.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
        expect(second.newer).toEqual({ created_at: second.rows[0].created_at, id: second.rows[0].id, inclusive: false });
        const back = await readModel.list(TENANT, { document: DOCUMENT(1) }, { size: 3, before: second.newer! });
        expect(back.rows.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));

        await readModel.commit([row(3, { documents: [DOCUMENT(2)], revision: 1n }), row(5, { documents: [], sessions: [SESSION(5)], revision: 1n })], position(1), position(2));
        expect(await ids({ document: DOCUMENT(1) })).toEqual(newestFirst.filter((id) => id !== row(3).id && id !== row(5).id));
        expect(await ids({ document: DOCUMENT(2) })).toEqual([row(3).id]);
        expect(await ids({ session: SESSION(5) })).toEqual([row(5).id]);

        const next = await fixture.open();
        expect((await next.list(TENANT, { session: SESSION(5) }, { size: 10 })).rows.map((r) => r.id)).toEqual([row(5).id]);
        await readModel.reset();
        expect(await ids({ document: DOCUMENT(1) })).toEqual([]);
        expect(await ids({ session: SESSION(5) })).toEqual([]);
      });
    });

    describe('lists', () => {
      /** Newest first. */
      let ids: string[];

      beforeEach(async () => {
        const rows = Array.from({ length: 10 }, (_, n) => row(n, { status: n % 2 ? 'active' : 'pending' }));
        await readModel.commit([...rows, row(50, { tenant: OTHER, external_id: 'user-1' })], START, position(1));
        ids = rows.map((r) => r.id).reverse();
      });

      const at = (id: string, inclusive = false): ListBound => {
        const n = Number(id.slice(-3));
        return { created_at: row(n).created_at, id, inclusive };
      };
      const page = async (filter: AccountFilter, request: ListRequest) => {
        const result = await readModel.list(TENANT, filter, request);
        return { ids: result.rows.map((r) => r.id), newer: result.newer, older: result.older };
      };

      it('pages newest first, with the bounds of the neighbouring pages', async () => {
        expect(await page({}, { size: 4 })).toEqual({ ids: ids.slice(0, 4), newer: null, older: at(ids[3]) });
        expect(await page({}, { size: 4, after: at(ids[3]) })).toEqual({ ids: ids.slice(4, 8), newer: at(ids[4]), older: at(ids[7]) });
        expect(await page({}, { size: 4, after: at(ids[7]) })).toEqual({ ids: ids.slice(8), newer: at(ids[8]), older: null });
        expect(await page({}, { size: 4, before: at(ids[8]) })).toEqual({ ids: ids.slice(4, 8), newer: at(ids[4]), older: at(ids[7]) });
        expect(await page({}, { size: 4, before: at(ids[2]) })).toEqual({ ids: ids.slice(0, 2), newer: null, older: at(ids[1]) });
      });

      it('leads from an empty page back to its own bound, taken the other way', async () => {
        expect(await page({}, { size: 3, after: at(ids[9]) })).toEqual({ ids: [], newer: at(ids[9], true), older: null });
        expect(await page({}, { size: 3, before: at(ids[9], true) })).toEqual({ ids: ids.slice(7), newer: at(ids[7]), older: null });
        expect(await page({}, { size: 3, before: at(ids[0]) })).toEqual({ ids: [], newer: null, older: at(ids[0], true) });
        expect(await page({}, { size: 3, after: at(ids[0], true) })).toEqual({ ids: ids.slice(0, 3), newer: null, older: at(ids[2]) });
      });

      it('filters within the tenant only', async () => {
        expect((await page({ status: 'active' }, { size: 100 })).ids).toEqual(ids.filter((id) => Number(id.slice(-3)) % 2 === 1));
        expect((await page({ external_id: 'user-1' }, { size: 100 })).ids).toEqual([row(1).id]);
        expect((await readModel.list(OTHER, { external_id: 'user-1' }, { size: 100 })).rows.map((r) => r.id)).toEqual([row(50).id]);
        expect((await page({ external_id: 'user-1', status: 'pending' }, { size: 100 })).ids).toEqual([]);
        expect((await page({ entity_type: 'business' }, { size: 100 })).ids).toEqual([]);
        expect((await page({ status: 'pending', entity_type: 'person' }, { size: 2 })).ids).toEqual([ids[1], ids[3]]);
      });

      it('orders ids by their bytes within one created_at, whatever the collation of the store', async () => {
        // Same second; ids that a linguistic collation would order otherwise (case, punctuation).
        const tied = ['acc_A', 'acc_a', 'acc_B', 'acc_b', 'acc_-1', 'acc__1'].map((id) => ({ ...row(60), id, external_id: id }));
        await readModel.commit(tied, position(1), position(2));
        const listed = (await readModel.list(TENANT, {}, { size: 100 })).rows.filter((r) => r.created_at === row(60).created_at).map((r) => r.id);
        expect(listed).toEqual(tied.map((r) => r.id).sort().reverse());
      });
    });
  });
}
