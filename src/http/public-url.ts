import type { Request } from 'express';

// Links in answers (Location, links.next/prev) are full URLs. They are built on PUBLIC_BASE_URL
// when the operator set it: behind a proxy only the operator knows the public address, and a
// client-chosen Host header must not decide where other clients are sent. Without it, the
// request's own Host is used, but only when it is a syntactically valid host.

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST = new RegExp(`^(?:(?:${LABEL})(?:\\.(?:${LABEL}))*\\.?|\\[[0-9A-Fa-f:.]{2,45}\\])(?::(\\d{1,5}))?$`);

/** host, host:port, or [IPv6]:port, as in RFC 3986, with DNS-style names only. */
export function isValidHost(host: string): boolean {
  const match = HOST.exec(host);
  if (!match || host.length > 260) return false;
  return match[1] === undefined || (Number(match[1]) >= 1 && Number(match[1]) <= 65535);
}

/** The origin (with any path prefix, never a trailing slash) that links of this answer start with. */
export function publicBaseUrl(request: Request, configured: string | null): string {
  if (configured) return configured;
  const host = request.get('host');
  return `${request.protocol}://${host && isValidHost(host) ? host : 'localhost'}`;
}

/**
 * PUBLIC_BASE_URL as configured: an absolute http(s) URL without credentials, query or fragment.
 * Returns it without a trailing slash, or null when it is not such a URL.
 */
export function parsePublicBaseUrl(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) return null;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
