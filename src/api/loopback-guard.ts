/**
 * The DNS-rebinding guard of no-token mode. Without tokens every caller is the admin `anonymous`,
 * which is safe only because the server listens on loopback (the configuration refuses anything
 * else without tokens). A web page on another site can still reach a loopback server through the
 * visitor's browser: by pointing its own domain name at 127.0.0.1 (the request then carries that
 * domain in `Host`), or by a cross-origin request (`Origin` names the page). So when no token is
 * configured:
 *
 * - a `Host` that is not a loopback name or address (`localhost`, `127.x.y.z`, `[::1]`, with an
 *   optional port) → 421 MISDIRECTED_REQUEST;
 * - an `Origin` that is not `http(s)://` + such a host → 403 FORBIDDEN (`Origin: null` included).
 *
 * Every route is guarded, the open ones too: a rebinding page could otherwise read `/metrics`. A
 * request without `Host` (HTTP/1.0) passes: browsers always send one, so a page cannot make one.
 * With tokens configured the guard is off; a browser cannot attach the bearer token on its own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopback } from './auth.js';
import { httpError } from './problem.js';

/** Throws MISDIRECTED_REQUEST (Host) or FORBIDDEN (Origin) unless both name loopback. */
export function assertLoopbackRequest(headers: IncomingHttpHeaders): void {
  const host = headers.host;
  if (host !== undefined && host !== lastLoopbackHost && !isLoopbackAuthority(host)) {
    throw httpError(
      'MISDIRECTED_REQUEST',
      `Host '${printable(host)}' is not a loopback address; without configured tokens Lessor only answers requests for localhost, 127.0.0.1 or [::1]`,
    );
  }
  const origin = headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin)) {
    throw httpError(
      'FORBIDDEN',
      `Origin '${printable(origin)}' is not a loopback origin; without configured tokens cross-site requests are refused`,
    );
  }
}

/**
 * The last `Host` found to be loopback: clients send the same one on every request, so the guard
 * parses it once rather than per request (the answer is a function of the text alone).
 */
let lastLoopbackHost: string | undefined;

/** `localhost`, `127.0.0.1:8080`, `[::1]:8080` (case-insensitive); the port, if any, is digits. */
export function isLoopbackAuthority(authority: string): boolean {
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(authority.trim());
  const loopback = match !== null && isLoopback(match[1]!.toLowerCase());
  if (loopback) lastLoopbackHost = authority;
  return loopback;
}

export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackAuthority(url.host);
}

/** Header text as it may appear in a problem detail: bounded, printable ASCII. */
function printable(value: string): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
