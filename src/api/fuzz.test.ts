/**
 * Property: whatever arrives — junk bodies, paths, query strings, headers, media types — the API
 * answers below 500, and every error is problem+json with a request id.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { backends } from '../store/testing/test-databases.js';
import { apiSuite, TOKENS } from './testing/api-harness.js';
import type { Problem } from './types.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
const TEMPLATES = [
  '/v1/tenants',
  '/v1/tenants/{x}',
  '/v1/tenants/{x}/retry',
  '/v1/tenants/{x}/events',
  '/v1/tenants/{x}/executions',
  '/v1/compute/executions/{x}',
  '/v1/workflows/runs/{x}',
  '/v1/compute/providers',
  '/v1/compute/providers/{x}/schema',
  '/v1/callbacks',
  '/v1/callbacks/{x}/redrive',
  '/v1/{x}',
  '/{x}',
];
const MEDIA = [
  'application/json',
  'application/merge-patch+json',
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
  'application/json;;;',
];

const segment = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom('acme', '..', '%00', '%zz', "'; DROP TABLE tenants;--", '<script>', 'a'.repeat(300)),
);
const junkBody = fc.oneof(
  fc.json({ maxDepth: 6 }),
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify({ name: 'fuzz', spec: { config: v } })),
  fc
    .record({ name: fc.string(), spec: fc.anything({ maxDepth: 3 }) })
    .map((v) => JSON.stringify(v) ?? 'null'),
);
const query = fc.dictionary(
  fc.constantFrom('limit', 'cursor', 'phase', 'labels', 'q', 'since', 'purge', 'state', 'foo'),
  fc.string({ maxLength: 30 }),
  { maxKeys: 3 },
);
const request = fc.record({
  method: fc.constantFrom(...METHODS),
  template: fc.constantFrom(...TEMPLATES),
  segment,
  query,
  body: fc.option(junkBody, { nil: undefined }),
  media: fc.constantFrom(...MEDIA),
  ifMatch: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
  token: fc.constantFrom('admin', 'viewer', null, 'garbage'),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toInject(r: FuzzRequest): InjectOptions & { url: string } {
  const path = r.template.replace('{x}', encodeURIComponent(r.segment));
  const search = new URLSearchParams(r.query).toString();
  const headers: Record<string, string> = {};
  if (r.token)
    headers.authorization = `Bearer ${r.token in TOKENS ? TOKENS[r.token as keyof typeof TOKENS] : r.token}`;
  if (r.body !== undefined && r.media !== '') headers['content-type'] = r.media;
  if (r.ifMatch !== undefined) headers['if-match'] = r.ifMatch.replace(/[^\x20-\x7e]/g, '');
  const url = search ? `${path}?${search}` : path;
  return {
    method: r.method,
    url,
    headers,
    ...(r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' && { payload: r.body }),
  };
}

for (const backend of backends()) {
  apiSuite(backend, 'fuzz: no 5xx for any request', (h) => {
    h.test('generated requests never get a 5xx; errors are problem+json', async () => {
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const options = toInject(r);
          // The SSE stream never ends under inject (`/v1/tenants/../events` is normalised to it too).
          if (new URL(options.url, 'http://x').pathname.startsWith('/v1/events')) return;
          const res = await Promise.race([
            h.app().inject(options),
            new Promise<never>((_, reject) =>
              setTimeout(() => reject(new Error(`no answer: ${JSON.stringify(options)}`)), 5000).unref(),
            ),
          ]);
          assert.ok(
            res.statusCode < 500,
            `${res.statusCode} for ${JSON.stringify(options)}: ${res.body.slice(0, 300)}`,
          );
          if (res.statusCode >= 400 && r.method !== 'HEAD') {
            assert.equal(res.headers['content-type'], 'application/problem+json', JSON.stringify(options));
            assert.ok(res.json<Problem>().requestId);
          }
        }),
        { numRuns: Number(process.env.LESSOR_FUZZ_RUNS ?? 300) },
      );
    });
  });
}
