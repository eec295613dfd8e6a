import { once } from 'node:events';
import { Agent, ClientRequest, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACCOUNT_STREAM_PREFIX } from '../../src/accounts/application/account-repository';
import { generateApiKey } from '../../src/auth/api-key';
import { ACCOUNTS, removeDir, tempDataDir } from '../support/app-harness';
import { FROM_SOURCES, HttpAnswer, killAllServices, send, ServiceProcess, startService } from '../support/service-process';
import { openServices } from '../support/services';

// SIGTERM during a burst of writes: the service stops accepting, answers the requests in flight,
// stops its projection at a checkpoint and closes its stores, within SHUTDOWN_TIMEOUT_MS; every
// write it acknowledged is there after the next start.

const CLIENTS = 8;
const SHUTDOWN_TIMEOUT_MS = 3000;
/** How long a clean stop may take beyond the drain: the projection and the stores. */
const MARGIN_MS = 3000;

interface Acknowledged {
  id: string;
  externalId: string;
  etag: string;
}

const createDocument = (externalId: string) => ({ data: { type: 'account', attributes: { entity_type: 'person', external_id: externalId } } });

describe('SIGTERM', () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = tempDataDir();
    dirs.push(dir);
    return dir;
  };
  const key = generateApiKey('staging');
  afterAll(async () => {
    await killAllServices();
    dirs.forEach(removeDir);
  });

  it('drains the writes in flight, stops cleanly in bounded time, and the next start serves every acknowledged write', async () => {
    const dataDir = newDataDir();
    const service = await startService(dataDir, key, FROM_SOURCES, { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    const acknowledged: Acknowledged[] = [];
    const failures: string[] = [];
    let signalled = 0;
    let answeredAfterSignal = 0;
    let next = 0;

    // Clients on connections of their own, and one that keeps a single connection alive: each writes until the service takes no more.
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const client = (agent?: Agent) => async () => {
      for (;;) {
        const externalId = `burst-${next++}`;
        let answer: HttpAnswer;
        try {
          answer = await post(service.url, key, createDocument(externalId), agent);
        } catch {
          // Refused or reset: a request the service never took, which it does not acknowledge.
          if (signalled) return;
          continue;
        }
        if (signalled) answeredAfterSignal += 1;
        if (answer.status === 201) acknowledged.push({ id: answer.body.data.id, externalId, etag: answer.headers.etag as string });
        else failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      }
    };
    const clients = [...Array.from({ length: CLIENTS - 1 }, () => client()), client(keepAlive)].map((run) => run());
    while (acknowledged.length < 40) await sleep(10);

    // One write certainly in flight at the signal: its headers and part of its body are sent before, the rest after.
    const slow = slowCreate(service.url, key, 'slow-write');
    await slow.taken;
    await sleep(100);
    const exited = once(service.child, 'close'); // not 'exit': its output is read to the end by then
    signalled = Date.now();
    service.child.kill('SIGTERM');
    await sleep(300);
    slow.finish();
    const slowAnswer = await slow.answer;
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    const stoppedInMs = Date.now() - signalled;
    await Promise.all(clients);
    keepAlive.destroy();

    expect(slowAnswer.status).toBe(201);
    acknowledged.push({ id: slowAnswer.body.data.id, externalId: 'slow-write', etag: slowAnswer.headers.etag as string });
    // Every request the service took was answered, and none with a failure of its own.
    expect(failures).toEqual([]);
    // A clean stop, in time: Nest re-raises the signal once the app is closed.
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const log = logLines(service);
    expect(log.find((line) => line.message === 'requests drained')).toMatchObject({ drained: true });
    expect(log.at(-1)).toMatchObject({ message: 'stopped: the projection at its checkpoint, the stores closed' });
    console.log(`${acknowledged.length} writes acknowledged, ${answeredAfterSignal} of them answered after SIGTERM; stopped in ${stoppedInMs} ms`);

    // The projection stopped at a checkpoint covering every account event stored.
    const stores = await openServices(dataDir, { access: 'read-only' });
    try {
      expect(await stores.readModel.checkpoint()).toBe(await stores.eventStore.headPosition([ACCOUNT_STREAM_PREFIX]));
    } finally {
      await stores.close();
    }

    const restarted = await startService(dataDir, key);
    try {
      expect((await send(restarted.url, 'GET', '/health/ready', key)).status).toBe(200);
      for (const write of acknowledged) {
        const read = await send(restarted.url, 'GET', `${ACCOUNTS}/${write.id}`, key);
        expect({ status: read.status, externalId: read.body.data?.attributes.external_id, etag: read.headers.etag }).toEqual({ status: 200, externalId: write.externalId, etag: write.etag });
      }
    } finally {
      restarted.child.kill('SIGTERM');
      await once(restarted.child, 'close');
    }
  });

  it('cuts off a request still unfinished after SHUTDOWN_TIMEOUT_MS, and still stops cleanly', async () => {
    const dataDir = newDataDir();
    const service = await startService(dataDir, key, FROM_SOURCES, { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
    // A client that sends half a request and then nothing.
    const stuck = slowCreate(service.url, key, 'never-finished');
    const cut = stuck.answer.then(
      () => 'answered',
      () => 'cut off',
    );
    await stuck.taken;
    await sleep(100);
    const exited = once(service.child, 'close');
    const signalled = Date.now();
    service.child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    const stoppedInMs = Date.now() - signalled;
    expect(await cut).toBe('cut off');
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(stoppedInMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS);
    expect(stoppedInMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
    const log = logLines(service);
    expect(log.map((line) => line.message)).toEqual(expect.arrayContaining(['requests still in flight after SHUTDOWN_TIMEOUT_MS were cut off']));
    expect(log.find((line) => line.message === 'requests drained')).toMatchObject({ drained: false });
    expect(log.at(-1)).toMatchObject({ message: 'stopped: the projection at its checkpoint, the stores closed' });
  });
});

/** A create on a connection of the agent given, or of its own. */
function post(url: string, key: string, document: unknown, agent?: Agent): Promise<HttpAnswer> {
  if (!agent) return send(url, 'POST', ACCOUNTS, key, document);
  const body = Buffer.from(JSON.stringify(document));
  return answerOf(httpRequest(`${url}${ACCOUNTS}`, { method: 'POST', agent, headers: { 'X-Api-Key': key, 'Content-Type': 'application/json', 'Content-Length': body.length } }).end(body));
}

/**
 * A create whose request is sent in two parts: `finish` sends the rest. `taken` resolves once the
 * service has read its headers (it answers 100 Continue), so it is a request in flight from then
 * on, not a connection still waiting to be read.
 */
function slowCreate(url: string, key: string, externalId: string) {
  const body = Buffer.from(JSON.stringify(createDocument(externalId)));
  const request = httpRequest(`${url}${ACCOUNTS}`, {
    method: 'POST',
    agent: false,
    headers: { 'X-Api-Key': key, 'Content-Type': 'application/json', 'Content-Length': body.length, Expect: '100-continue' },
  });
  const answer = answerOf(request);
  answer.catch(() => undefined); // awaited later; not an unhandled rejection meanwhile
  const taken = once(request, 'continue').then(() => new Promise<void>((resolve) => request.write(body.subarray(0, 20), () => resolve())));
  request.flushHeaders();
  return { taken, answer, finish: () => request.end(body.subarray(20)) };
}

function answerOf(request: ClientRequest): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => (response.complete ? resolve({ status: response.statusCode!, headers: response.headers, body: JSON.parse(text) }) : reject(new Error('cut off'))));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function logLines(service: ServiceProcess): { message: string; [field: string]: unknown }[] {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}
