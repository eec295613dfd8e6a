// The loads of `npm run bench`: autocannon against the service's routes and against the bare app's,
// and what the service reports about itself while under load (/metrics, /health/ready).
import autocannon from 'autocannon';
import { sleep } from './processes';

export const CONNECTIONS = 50;
export const BASE = '/v1/identity/accounts';

export interface LoadFigures {
  /** Responses per second over the run (any status). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  responses: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Answers with a 2xx status but not the body expected (a lookup that found nothing). */
  mismatches: number;
  /** Counts per status code, to say what the non-2xx were. */
  statuses: Record<string, number>;
}

type Request = NonNullable<autocannon.Options['requests']>[number];

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  request: Request;
  verifyBody?: (body: string) => boolean;
  duration?: number;
  amount?: number;
  overallRate?: number;
}

export async function load(spec: LoadSpec): Promise<LoadFigures> {
  const result = await autocannon({
    url: spec.url,
    connections: CONNECTIONS,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 5 }),
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    timeout: 30,
    headers: spec.headers,
    requests: [spec.request],
    ...(spec.verifyBody ? { verifyBody: spec.verifyBody } : {}),
  });
  const responses = Object.values(result.statusCodeStats ?? {}).reduce((sum, { count }) => sum + Number(count), 0);
  return {
    rps: result.duration > 0 ? responses / result.duration : 0,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    responses,
    non2xx: result.non2xx,
    errors: result.errors,
    mismatches: result.mismatches ?? 0,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, Number(count)])),
  };
}

/** What a create sends: a person with the usual personal data (all of it sealed by the service). */
export function createBody(externalId: string): string {
  return JSON.stringify({
    data: {
      type: 'account',
      attributes: {
        entity_type: 'person',
        external_id: externalId,
        person: { name: { first: 'Jane', last: 'Doe' }, birth_date: '1990-05-15', sex: 'female' },
        contact: { email: 'jane.doe@example.com', phone: '+14155550100' },
        address: { line1: '1 Main Street', locality: 'Springfield', postal_code: '12345', country_code: 'US' },
        identity_numbers: [{ number: '123-45-6789', issuing_country_code: 'US', class: 'ssn' }],
      },
    },
  });
}

export interface PoolAccount {
  id: string;
  externalId: string;
  status: 'pending' | 'active' | 'suspended';
}

/**
 * The accounts the creates made, for the reads and updates that follow. Requests go round-robin
 * over them, so with more accounts than connections no two requests in flight touch one account:
 * each status change is a real transition, and streams stay short, as real accounts' are.
 */
export class AccountPool {
  readonly accounts: PoolAccount[] = [];
  private next = 0;
  private created = 0;

  constructor(private readonly tag: string) {}

  newExternalId(): string {
    return `bench-${this.tag}-${++this.created}`;
  }

  pick(): PoolAccount {
    const account = this.accounts[this.next % this.accounts.length];
    this.next += 1;
    return account;
  }
}

const ACCOUNT_ID = /"id":"(acc_[0-9A-Z]{26})"/;

export type ScenarioName = 'create' | 'patch' | 'status' | 'get' | 'lookup' | 'list';

export interface Scenario {
  name: ScenarioName;
  /** What the table calls it. */
  label: string;
  /** The bare route it is compared with. */
  bare: 'GET' | 'POST';
  spec(pool: AccountPool): Pick<LoadSpec, 'request' | 'verifyBody'>;
}

const hasAccount = (body: string) => body.includes('"id":"acc_');

export const SCENARIOS: Scenario[] = [
  {
    name: 'create',
    label: 'create (POST /accounts)',
    bare: 'POST',
    spec: (pool) => ({
      request: {
        method: 'POST',
        path: BASE,
        setupRequest: (request, context) => {
          const externalId = pool.newExternalId();
          context.externalId = externalId;
          return { ...request, body: createBody(externalId) };
        },
        onResponse: (status, body, context) => {
          const id = status === 201 ? ACCOUNT_ID.exec(body)?.[1] : undefined;
          if (id) pool.accounts.push({ id, externalId: context.externalId as string, status: 'pending' });
        },
      },
    }),
  },
  {
    name: 'patch',
    label: 'PATCH /accounts/{id}',
    bare: 'POST',
    spec: (pool) => {
      let n = 0;
      return {
        request: {
          method: 'PATCH',
          setupRequest: (request) => {
            const { id } = pool.pick();
            // A new email each time: every PATCH records an event.
            const body = JSON.stringify({ data: { type: 'account', id, attributes: { contact: { email: `jane.${++n}@example.com` } } } });
            return { ...request, path: `${BASE}/${id}`, body };
          },
        },
      };
    },
  },
  {
    name: 'status',
    label: 'status (POST /accounts/{id}/status)',
    bare: 'POST',
    spec: (pool) => ({
      request: {
        method: 'POST',
        setupRequest: (request) => {
          const account = pool.pick();
          // pending → active → suspended → active …: every request a permitted transition.
          account.status = account.status === 'active' ? 'suspended' : 'active';
          const body = JSON.stringify({ data: { type: 'account-status-change', attributes: { status: account.status, reason: null } } });
          return { ...request, path: `${BASE}/${account.id}/status`, body };
        },
      },
    }),
  },
  {
    name: 'get',
    label: 'GET /accounts/{id}',
    bare: 'GET',
    spec: (pool) => ({
      request: { method: 'GET', setupRequest: (request) => ({ ...request, path: `${BASE}/${pool.pick().id}` }) },
      verifyBody: hasAccount,
    }),
  },
  {
    name: 'lookup',
    label: 'lookup (GET /accounts?filter[external_id]=)',
    bare: 'GET',
    spec: (pool) => ({
      request: {
        method: 'GET',
        setupRequest: (request) => ({ ...request, path: `${BASE}?filter%5Bexternal_id%5D=${encodeURIComponent(pool.pick().externalId)}` }),
      },
      // A list of one: the account was found.
      verifyBody: hasAccount,
    }),
  },
  {
    name: 'list',
    label: 'list page (GET /accounts, 15 newest)',
    bare: 'GET',
    spec: () => ({ request: { method: 'GET', path: BASE }, verifyBody: hasAccount }),
  },
];

export function bareSpec(kind: 'GET' | 'POST'): Pick<LoadSpec, 'request'> {
  return kind === 'GET'
    ? { request: { method: 'GET', path: '/bare/acc_01HQ3Z8N5V2YB7K4M9TXJ6CWDE' } }
    : // A body the size of a create's: the bare route parses it too.
      { request: { method: 'POST', path: '/bare', body: createBody('bench-bare-0000000') } };
}

/** One Prometheus sample's value from the service's /metrics, or null. */
export async function scrapeMetric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * Samples the projection's lag (the age of the oldest event the read model has not applied yet,
 * as /health/ready reports it) every `everyMs` until `until` settles. Readings are taken at times
 * unrelated to the writes, so this is the lag as an observer sees it over time: a long lag is seen
 * for as long as it lasts, which makes the percentiles conservative compared with per-event lags.
 */
export async function sampleProjectionLag(url: string, until: Promise<unknown>, everyMs: number): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const samples: number[] = [];
  while (!done) {
    const answer = (await (await fetch(`${url}/health/ready`)).json()) as { details?: { projection?: { lag_ms?: number } } };
    const lag = answer.details?.projection?.lag_ms;
    if (typeof lag === 'number') samples.push(lag);
    await sleep(everyMs);
  }
  return samples;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(values: number[]): number {
  return percentile(values, 50) ?? NaN;
}
