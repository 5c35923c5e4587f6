/**
 * Reliability (test/README.md), bad input over real HTTP: thousands of requests generated from the
 * server's own OpenAPI document (support/openapi-requests.ts) — wrong types, unknown fields, missing
 * fields, pattern and range violations, malformed JSON, odd media types, odd names and injection
 * strings — plus fixed cases (a body over 1 MiB, deep nesting, wrong media type). Every answer is
 * below 500, every error is problem+json with a stable code, and nothing is stored: the tenant count
 * grows only by creates answered 2xx, and the existing tenant the requests aim at is untouched
 * unless a write to it was answered 2xx. `LESSOR_RELIABILITY_SCALE=N` sends N times as many.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { backends } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { engines } from '../support/engines.js';
import { operationsOf, requestFor, type GeneratedRequest, type Schema } from '../support/openapi-requests.js';
import { waitForPhase } from '../support/wait.js';

const SCALE = Math.max(1, Number(process.env.LESSOR_RELIABILITY_SCALE ?? 1) || 1);
const RUNS = 2_000 * SCALE;

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly code: unknown;
  readonly requestId: string | null;
}

describe('bad input generated from the OpenAPI document', () => {
  const victim = `rel-bi${randomBytes(3).toString('hex')}`;
  let d: Deployment | undefined;

  before(async () => {
    // Request logs off: thousands of requests, and the log is not what is under test here.
    const env = { LESSOR_LOG__LEVEL: 'warn' };
    d = await deploy({ backend: backends()[0]!, engine: engines()[0]!, providers: { fake: {} }, env });
    const tenant = await d.client.createTenant({ name: victim, spec: { config: {} } });
    // Settled first: its own provisioning must not count as a change the requests made.
    await waitForPhase(d.client, tenant.id, 'ready', { timeoutMs: 30_000, failOn: ['failed'] });
  });
  after(() => d?.close());

  async function send(request: GeneratedRequest): Promise<Answer> {
    const init: RequestInit = {
      method: request.method,
      headers: request.headers,
      signal: AbortSignal.timeout(20_000),
    };
    if (request.body !== undefined) init.body = request.body;
    const response = await fetch(`${d!.lessor.url}${request.path}`, init);
    const text = await response.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      code,
      requestId: response.headers.get('x-request-id'),
    };
  }

  function assertAnswer(request: GeneratedRequest, answer: Answer): void {
    const what = `${request.method} ${request.path.slice(0, 200)} ${request.body?.slice(0, 200) ?? ''} → ${answer.status}`;
    assert.ok(answer.status < 500, what);
    assert.ok(answer.requestId, `X-Request-Id missing: ${what}`);
    if (answer.status >= 400) {
      assert.match(answer.contentType, /^application\/problem\+json/, what);
      assert.equal(typeof answer.code, 'string', what);
    }
  }

  test(`${RUNS} generated requests: no 5xx, errors are problem+json, nothing stored`, () =>
    withLogs(d, async () => {
      const client = d!.client;
      const before = await client.getTenant(victim);
      const tenantsBefore = (await client.listTenants({ includeArchived: true, limit: 500 })).items.length;
      const doc = (await (await fetch(`${d!.lessor.url}/openapi.json`)).json()) as Schema;
      const operations = operationsOf(doc, ['GET /v1/events']);
      assert.ok(operations.length >= 15, `the document lists the API (${operations.length} operations)`);

      const byStatus = new Map<number, number>();
      let created = 0;
      let writesToVictim = 0;
      const started = Date.now();
      // Built once per operation: building arbitraries per sample is what costs, not sending.
      const arbitrary = fc.oneof(...operations.map((op) => requestFor(op, doc, victim)));
      await fc.assert(
        fc.asyncProperty(arbitrary, async (generated) => {
          const request = guard(generated, victim);
          const answer = await send(request);
          byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
          if (answer.status < 300 && request.operation === 'POST /v1/tenants') created += 1;
          if (answer.status < 300 && request.method !== 'GET' && request.path.includes(victim))
            writesToVictim += 1;
          assertAnswer(request, answer);
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: 120_000 * SCALE, endOnFailure: true },
      );
      const fixed = await fixedCases();
      const tenantsAfter = (await client.listTenants({ includeArchived: true, limit: 500 })).items.length;
      assert.equal(tenantsAfter, tenantsBefore + created, 'only creates answered 2xx stored a tenant');
      if (writesToVictim === 0)
        assert.equal(
          (await client.getTenant(victim)).version,
          before.version,
          'the targeted tenant is untouched',
        );
      const requests = [...byStatus.values()].reduce((a, b) => a + b, 0) + fixed;
      console.log(
        `reliability: bad-input requests=${requests} operations=${operations.length} accepted-creates=${created} ` +
          `writes-to-target=${writesToVictim} statuses=${JSON.stringify(Object.fromEntries(byStatus))} durationMs=${Date.now() - started}`,
      );
    }));

  /** Cases a generator rarely produces: each gets its specific 4xx. Returns how many were sent. */
  async function fixedCases(): Promise<number> {
    const json = { 'content-type': 'application/json' };
    const huge = JSON.stringify({ name: 'huge', spec: { config: { blob: 'x'.repeat(1_200_000) } } });
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const cases: [GeneratedRequest, number][] = [
      [{ method: 'POST', path: '/v1/tenants', headers: json, body: huge, operation: 'huge' }, 413],
      [{ method: 'POST', path: '/v1/tenants', headers: json, body: deep, operation: 'deep' }, 400],
      [
        {
          method: 'POST',
          path: '/v1/tenants',
          headers: { 'content-type': 'text/plain' },
          body: 'name=x',
          operation: 'media',
        },
        415,
      ],
      [{ method: 'POST', path: '/v1/tenants', headers: json, body: '{"name":', operation: 'malformed' }, 400],
      [
        {
          method: 'POST',
          path: '/v1/tenants',
          headers: json,
          body: JSON.stringify({ name: 'UPPER', spec: { config: {} } }),
          operation: 'name',
        },
        400,
      ],
      [
        {
          method: 'POST',
          path: '/v1/tenants',
          headers: json,
          body: JSON.stringify({ name: 'ok-name', spec: { config: {}, extra: 1 } }),
          operation: 'unknown',
        },
        400,
      ],
      [
        {
          method: 'PATCH',
          path: `/v1/tenants/${victim}`,
          headers: { 'content-type': 'application/merge-patch+json' },
          body: '{"status":{"phase":"ready"}}',
          operation: 'status',
        },
        400,
      ],
      [
        {
          method: 'GET',
          path: `/v1/tenants/${encodeURIComponent("x' OR '1'='1")}`,
          headers: {},
          operation: 'injection',
        },
        400,
      ],
    ];
    for (const [request, expected] of cases) {
      const answer = await send(request);
      assertAnswer(request, answer);
      const family = Math.floor(answer.status / 100) * 100;
      assert.ok(
        answer.status === expected || (expected === 400 && family === 400 && answer.status !== 404),
        `${request.operation}: ${answer.status}, expected ${expected}`,
      );
    }
    return cases.length;
  }
});

/** Deletes and retries aimed at the target carry an If-Match that cannot match: the target must survive. */
function guard(request: GeneratedRequest, victim: string): GeneratedRequest {
  const destructive = request.method === 'DELETE' || request.path.endsWith('/retry');
  if (!destructive || !request.path.includes(victim)) return request;
  return { ...request, headers: { ...request.headers, 'if-match': '"987654321"' } };
}
