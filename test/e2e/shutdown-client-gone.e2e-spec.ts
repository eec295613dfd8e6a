import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCOUNT_CREATED } from '../../src/accounts/domain/events';
import { AppendResult, EventToAppend, ExpectedRevision, START } from '../../src/storage/event-store.port';
import { ACCOUNTS, removeDir, startApp, TestApp, tempDataDir } from '../support/app-harness';
import { ForwardingEventStore } from '../support/forwarding-event-store';
import { openServices } from '../support/services';

// A client that hangs up while its request is being handled closes its connection, so the server has
// no connection left to wait for; the handler still runs and still writes. A shutdown must wait for
// that handler's answer before it closes the stores under it.

/** An event store whose account appends wait at a gate the test opens: a request held mid-write. */
class GatedEventStore extends ForwardingEventStore {
  private open!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  private reached!: () => void;
  /** Resolves once an account append is waiting at the gate. */
  readonly waiting = new Promise<void>((resolve) => (this.reached = resolve));

  openGate(): void {
    this.open();
  }
  override async appendToStream(stream: string, events: EventToAppend[], expected: ExpectedRevision): Promise<AppendResult> {
    if (stream.startsWith('account-')) {
      this.reached();
      await this.gate;
    }
    return super.appendToStream(stream, events, expected);
  }
}

describe('Shutdown while a client that hung up still has a request being handled', () => {
  const dataDir = tempDataDir();
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close().catch(() => undefined);
    removeDir(dataDir);
  });

  it('waits for the request to be answered before closing the stores: its write lands and nothing fails', async () => {
    let store: GatedEventStore | undefined;
    t = await startApp({ dataDir, env: { SHUTDOWN_TIMEOUT_MS: '20000' }, services: { decorate: { eventStore: (inner) => (store = new GatedEventStore(inner)) } } });
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;

    const body = JSON.stringify({ data: { type: 'account', attributes: { entity_type: 'person', external_id: 'client-gone-1' } } });
    const client = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: ACCOUNTS, headers: { 'content-type': 'application/json', 'x-api-key': t.key } });
    client.on('error', () => undefined);
    client.end(body);
    await store!.waiting;
    // The client hangs up, and the server sees its connection close.
    const hungUp = new Promise((resolve) => client.once('close', resolve));
    client.destroy();
    await hungUp;
    await sleep(100);

    let closed = false;
    const closing = t.app.close().then(() => (closed = true));
    await sleep(300);
    // The connection is gone, but its request is not answered: the stores are still open.
    expect(closed).toBe(false);
    store!.openGate();
    await closing;

    const failures = t.logs.filter((line) => /"level":"(error|fatal)"/.test(line) || /"status":5\d\d/.test(line));
    expect(failures).toEqual([]);
    const reopened = await openServices(dataDir, { access: 'read-only' });
    try {
      const created = (await reopened.eventStore.readAll(START, 1000)).filter((event) => event.type === ACCOUNT_CREATED);
      expect(created.map((event) => event.data.external_id)).toEqual(['client-gone-1']);
    } finally {
      await reopened.close();
    }
  });
});
