/**
 * One HTTP attempt of a webhook delivery: POST the signed body to the address the guard checked
 * (the socket's DNS lookup answers with that address only; TLS still verifies the host name),
 * with one deadline for connect, headers and body. Redirects are not followed. The response body
 * is read (up to a small cap, then dropped) so keep-alive sockets are reused.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { parseRetryAfter, type AttemptResult } from '../domain/webhook-retry.js';
import {
  DestinationRefusedError,
  type DestinationGuard,
  type ResolvedAddress,
} from './webhook-destination.js';

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Aborts the attempt (the process is stopping): the attempt then is not recorded. */
  readonly signal: AbortSignal;
}

export type SendWebhook = (request: SendRequest) => Promise<AttemptResult>;

const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = 'Lessor-Webhooks/1';

/** A lookup that only ever answers with the checked address. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  }) as LookupFunction;
}

export class AttemptAbortedError extends Error {
  override readonly name = 'AttemptAbortedError';
}

export function webhookSender(guard: DestinationGuard): { send: SendWebhook; close(): void } {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: Infinity }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: Infinity }),
  };
  const send: SendWebhook = async (request) => {
    const url = new URL(request.url);
    let pinned: ResolvedAddress;
    try {
      pinned = await guard.check(url);
    } catch (error) {
      if (error instanceof DestinationRefusedError)
        return { statusCode: null, error: error.message, refused: true };
      return { statusCode: null, error: `cannot resolve ${url.hostname}: ${(error as Error).message}` };
    }
    if (request.signal.aborted) throw new AttemptAbortedError('stopping');
    return post(url, pinned, request, url.protocol === 'https:' ? agents['https:'] : agents['http:']);
  };
  return {
    send,
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

function post(
  url: URL,
  pinned: ResolvedAddress,
  request: SendRequest,
  agent: http.Agent,
): Promise<AttemptResult> {
  const lib = url.protocol === 'https:' ? https : http;
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = AbortSignal.any([deadline, request.signal]);
  return new Promise<AttemptResult>((resolve, reject) => {
    const req = lib.request(url, {
      method: 'POST',
      agent,
      lookup: pinnedLookup(pinned),
      signal,
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(request.body),
        'user-agent': USER_AGENT,
      },
    });
    const fail = (error: Error): void => {
      if (request.signal.aborted) reject(new AttemptAbortedError('stopping', { cause: error }));
      else if (deadline.aborted)
        resolve({ statusCode: null, error: `timed out after ${request.timeoutMs} ms` });
      else resolve({ statusCode: null, error: `connection failed: ${error.message}` });
    };
    req.on('error', fail);
    req.on('response', (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', fail);
      const done = (): void => {
        const statusCode = res.statusCode ?? 0;
        const ok = statusCode >= 200 && statusCode < 300;
        const header: string | undefined = res.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(header, Date.now());
        resolve({
          statusCode,
          error: ok ? null : `the endpoint answered ${statusCode}`,
          ...(retryAfterMs !== undefined && (statusCode === 429 || statusCode >= 500) && { retryAfterMs }),
        });
      };
      res.on('end', done);
      res.on('close', () => {
        if (!res.complete && received <= MAX_RESPONSE_BYTES) return;
        done();
      });
    });
    req.end(request.body);
  });
}
