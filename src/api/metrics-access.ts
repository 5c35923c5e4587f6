/**
 * Who may read `/metrics` (`server.metrics`): a caller on the local machine (when
 * `openOnLoopback`, the default), or any caller presenting a bearer token — the metrics token
 * (`server.metrics.tokenSha256`) or an API token of any role. The loopback test uses the socket's
 * peer address, never a forwarded header. Behind a reverse proxy on the same host every caller
 * looks local: turn `openOnLoopback` off there and give Prometheus the metrics token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isLoopback, type TokenConfig } from './auth.js';
import { httpError } from './problem.js';

export interface MetricsAccessOptions {
  readonly openOnLoopback: boolean;
  /** Hex SHA-256 of the token Prometheus presents. */
  readonly tokenSha256?: string | undefined;
}

export const DEFAULT_METRICS_ACCESS: MetricsAccessOptions = { openOnLoopback: true };

/** Throws UNAUTHORIZED (no or a wrong token) or FORBIDDEN (no token could ever be right). */
export function createMetricsGuard(
  options: MetricsAccessOptions,
  apiTokens: readonly TokenConfig[],
): (request: FastifyRequest) => void {
  const digests = [options.tokenSha256, ...apiTokens.map((t) => t.sha256)]
    .filter((hash): hash is string => hash !== undefined)
    .map((hash) => Buffer.from(hash.toLowerCase(), 'hex'));
  return (request) => {
    const peer = request.raw.socket.remoteAddress ?? '';
    if (options.openOnLoopback && isLoopback(peer.replace(/^::ffff:/, ''))) return;
    if (digests.length === 0) {
      throw httpError(
        'FORBIDDEN',
        '/metrics is served to loopback callers only; configure server.metrics.tokenSha256',
      );
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +([\x21-\x7e]{1,4096}) *$/i.exec(header) : null;
    if (!match) throw httpError('UNAUTHORIZED', '/metrics needs a bearer token from this address');
    const presented = createHash('sha256').update(match[1]!, 'utf8').digest();
    let valid = false;
    for (const digest of digests) valid = timingSafeEqual(presented, digest) || valid;
    if (!valid) throw httpError('UNAUTHORIZED', 'the bearer token is not valid');
  };
}
