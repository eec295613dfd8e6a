import { Scope, SCOPES } from '../../src/auth/api-key';
import { ApiKeys } from '../../src/auth/api-keys';
import { Environment } from '../../src/kernel/tenant';
import { ACCOUNTS, TestApp } from './app-harness';

/** A key of another tenant (or with fewer scopes), issued straight into the running app's key store. */
export async function issueKey(t: TestApp, organization: string, scopes: Scope[] = [...SCOPES], environment: Environment = 'staging'): Promise<string> {
  return (await t.app.get(ApiKeys).create(organization, environment, scopes)).key;
}

/** GET /accounts with a raw query string, e.g. `filter[status]=active&page[size]=7`. */
export const listAccounts = (t: TestApp, query: string, key = t.key) => t.http().get(`${ACCOUNTS}${query ? `?${query}` : ''}`).set('X-Api-Key', key);

/** Follows a `links.next` or `links.prev` URL as the client would. */
export function follow(t: TestApp, link: string, key = t.key) {
  const url = new URL(link);
  return t.http().get(`${url.pathname}${url.search}`).set('X-Api-Key', key);
}

export const idsOf = (body: { data: { id: string }[] }) => body.data.map((resource) => resource.id);

/** Every page from the first, following links.next; `between` runs before each further request. */
export async function walkForward(t: TestApp, query: string, key = t.key, between: () => Promise<unknown> = async () => undefined) {
  const pages: string[][] = [];
  let response = await listAccounts(t, query, key).expect(200);
  pages.push(idsOf(response.body));
  while (response.body.links.next) {
    await between();
    response = await follow(t, response.body.links.next, key).expect(200);
    pages.push(idsOf(response.body));
  }
  return { pages, last: response.body };
}

/** From a page back to the newest, following links.prev; the pages come out newest first. */
export async function walkBackward(t: TestApp, from: { links: { prev: string | null } } & { data: { id: string }[] }, key = t.key, between: () => Promise<unknown> = async () => undefined) {
  const pages: string[][] = [idsOf(from)];
  let body = from;
  while (body.links.prev) {
    await between();
    body = (await follow(t, body.links.prev, key).expect(200)).body;
    pages.unshift(idsOf(body));
  }
  return pages;
}
