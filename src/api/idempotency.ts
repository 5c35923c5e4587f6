/**
 * `Idempotency-Key` on `POST /v1/tenants` (docs/api.md, "Idempotency"), after the IETF httpapi
 * idempotency-key draft:
 * - same key + same body → the first response again (status, body, Location, ETag) with
 *   `Idempotent-Replayed: true`. Bodies are compared by the server's keyed hash of their canonical
 *   JSON: a body may hold secrets, and a plain hash in the database would let a reader test guesses;
 * - same key + another body → 422, code VALIDATION_FAILED, type `…:idempotency-key-reused`;
 * - same key while the first request is still running → 409 CONFLICT (+ Retry-After);
 * - keys are scoped to the caller (token name, or `anonymous`) and kept 24 h.
 * A request that fails releases its key, so the client may retry it. A request whose process died
 * (kill -9 between claim and answer) never released it: its claim expires after
 * `IN_FLIGHT_LEASE_MS`, and the client's retry then runs the request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from './api-deps.js';
import { httpError } from './problem.js';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/**
 * How long a claim blocks repeats while its request runs. A create is one transaction (milliseconds):
 * a claim a minute old belongs to a process that died, or to one so stalled that running the
 * request again is the lesser harm (a second create still meets the tenant's unique name).
 */
export const IN_FLIGHT_LEASE_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface Outcome {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

function send(reply: FastifyReply, outcome: Outcome): FastifyReply {
  return reply.code(outcome.statusCode).headers(outcome.headers).send(outcome.body);
}

/** Runs `produce` at most once per (caller, key); replays its outcome for repeats. */
export async function idempotent(
  ctx: ApiContext,
  request: FastifyRequest,
  reply: FastifyReply,
  produce: () => Promise<Outcome>,
): Promise<FastifyReply> {
  const key = idempotencyKey(request);
  if (key === undefined) return send(reply, await produce());
  const scope = request.principal.name;
  const requestHash = ctx.deps.hasher({
    method: request.method,
    route: request.routeOptions.url ?? '',
    body: request.body,
  });
  const now = ctx.now().getTime();
  const { idempotency } = ctx.deps.store;
  const claim = await idempotency.claim({
    key,
    scope,
    requestHash,
    now,
    expiresAt: now + IN_FLIGHT_LEASE_MS,
  });
  if (!claim.claimed) {
    const { existing } = claim;
    if (existing.requestHash !== requestHash) throw reused();
    if (existing.state !== 'completed' || existing.statusCode === null) throw inFlight();
    const headers = { ...existing.responseHeaders, 'idempotent-replayed': 'true' };
    return send(reply, { statusCode: existing.statusCode, body: existing.responseBody, headers });
  }
  let outcome: Outcome;
  try {
    outcome = await produce();
  } catch (error) {
    await idempotency
      .release(key, scope)
      .catch((e: unknown) => request.log.warn({ err: e }, 'idempotency release failed'));
    throw error;
  }
  const completedAt = ctx.now().getTime();
  await idempotency
    .complete(key, scope, outcome, completedAt + IDEMPOTENCY_TTL_MS)
    .catch(async (e: unknown) => {
      // The write itself committed: answer it, and free the key (a retry then meets the unique name).
      request.log.warn({ err: e }, 'idempotency completion failed');
      await idempotency.release(key, scope).catch(() => undefined);
    });
  return send(reply, outcome);
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header === 'string' && KEY_PATTERN.test(header)) return header;
  throw httpError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 printable ASCII characters', {
    problems: [{ path: 'headers.idempotency-key', message: 'must be 1-255 printable ASCII characters' }],
  });
}

function reused() {
  return httpError(
    'VALIDATION_FAILED',
    'this Idempotency-Key was already used with a different request body',
    {
      status: 422,
      type: 'urn:lessor:problem:idempotency-key-reused',
      problems: [{ path: 'headers.idempotency-key', message: 'already used with a different request body' }],
    },
  );
}

function inFlight() {
  return httpError('CONFLICT', 'a request with this Idempotency-Key is still being processed', {
    type: 'urn:lessor:problem:idempotency-key-in-flight',
    headers: { 'retry-after': '1' },
  });
}
