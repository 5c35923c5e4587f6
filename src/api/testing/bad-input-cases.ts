/**
 * The bad-input table (docs/api.md, "Errors": no malformed request gets a 5xx): each case is one malformed or
 * hostile request and the 4xx problem it must get. `VICTIM` in a URL stands for an existing tenant's id.
 */
import type { InjectOptions } from 'fastify';

export interface BadInputCase {
  readonly reason: string;
  readonly method: NonNullable<InjectOptions['method']>;
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  readonly payload?: unknown;
  readonly status: number;
  readonly code: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const INVALID = { status: 400, code: 'VALIDATION_FAILED' } as const;
const INJECTIONS = [
  "'; DROP TABLE tenants;--",
  '../../etc/passwd',
  '<script>alert(1)</script>',
  'a\u0000b',
  '${jndi:x}',
];

const spec = (extra: Record<string, unknown> = {}) => ({ config: { image: 'x' }, ...extra });
const deep = (depth: number): unknown => (depth <= 0 ? 'leaf' : { n: deep(depth - 1) });

/** POST /v1/tenants with `payload` → 400. */
const post = (reason: string, payload: unknown): BadInputCase => ({
  reason,
  method: 'POST',
  url: '/v1/tenants',
  payload,
  ...INVALID,
});
/** POST /v1/tenants with this raw JSON text → 400. */
const text = (reason: string, body: string): BadInputCase => ({ ...post(reason, body), headers: JSON_TYPE });
const withSpec = (reason: string, extra: Record<string, unknown>) =>
  post(reason, { name: 'a', spec: spec(extra) });
const withConfig = (reason: string, config: unknown) => post(reason, { name: 'a', spec: { config } });
/** A body of `type` → 415. */
const media = (
  reason: string,
  type: string,
  url = '/v1/tenants',
  method: 'POST' | 'PATCH' = 'POST',
): BadInputCase => ({
  reason,
  method,
  url,
  headers: { 'content-type': type },
  payload: JSON.stringify({ name: 'a', spec: spec() }),
  status: 415,
  code: 'UNSUPPORTED_MEDIA_TYPE',
});
const get = (url: string, reason = `GET ${url}`, headers: Record<string, string> = {}): BadInputCase => ({
  reason,
  method: 'GET',
  url,
  headers,
  ...INVALID,
});
const write = (
  method: 'PUT' | 'PATCH' | 'POST' | 'DELETE',
  reason: string,
  payload?: unknown,
  url = '/v1/tenants/VICTIM',
) => ({ reason, method, url, payload, ...INVALID }) satisfies BadInputCase;

const NAMES = ['Acme', '-acme', 'acme-', 'a'.repeat(64), '', 'a_b', 'a.b', 'ünï', ' acme', ...INJECTIONS];
const QUERIES = [
  ...['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'limit=1.5', 'limit=1&limit=2'],
  ...[
    'phase=bogus',
    'phase=READY',
    'provider=Docker!',
    'q=UPPER',
    'q=%00',
    'includeArchived=maybe',
    'foo=bar',
  ],
  ...[
    'labels=plan',
    'labels=plan=pro,',
    'labels==x',
    'labels=a!b',
    `labels=${encodeURIComponent("x=';DROP--")}`,
  ],
  ...['cursor=bad!!', 'cursor=eyJ4Ijox', `cursor=${Buffer.from('["a","b"]').toString('base64url')}`],
];

export const BODY_CASES: readonly BadInputCase[] = [
  text('malformed JSON', '{"name": "a",'),
  text('JSON null', 'null'),
  text('JSON array', '[]'),
  text('JSON string', '"tenant"'),
  text('empty body with a JSON content type', ''),
  post('no body at all', undefined),
  text('number too large for JSON (Infinity)', '{"name":"inf","spec":{"config":{"a":1e400}}}'),
  text('__proto__ key (prototype poisoning)', '{"__proto__":{"x":1},"name":"p","spec":{}}'),
  text('constructor.prototype key', '{"name":"p","spec":{"config":{"constructor":{"prototype":{"x":1}}}}}'),
  post('name of the wrong type', { name: 123, spec: spec() }),
  post('spec of the wrong type', { name: 'a', spec: 'docker' }),
  withConfig('config is an array', []),
  withSpec('paused is a string', { paused: 'yes' }),
  withSpec('label value is a number', { labels: { a: 1 } }),
  post('unknown top-level field', { name: 'a', spec: spec(), extra: 1 }),
  post('status is not writable', { name: 'a', spec: spec(), status: { phase: 'ready' } }),
  withSpec('unknown spec field', { image: 'x' }),
  withSpec('unknown retryPolicy field', { retryPolicy: { bogus: 1 } }),
  withSpec('retryPolicy out of range', { retryPolicy: { maxAttempts: 0 } }),
  withSpec('unknown onError code', { retryPolicy: { onError: { NOPE: 'fail' } } }),
  withConfig('unknown provider config field (provider schema)', { imag: 'x' }),
  ...NAMES.map((name) => post(`odd name ${JSON.stringify(name)}`, { name, spec: spec() })),
  ...INJECTIONS.map((s) => withSpec(`label key ${JSON.stringify(s)}`, { labels: { [s]: 'v' } })),
  ...INJECTIONS.map((s) => withSpec(`label value ${JSON.stringify(s)}`, { labels: { k: s } })),
  withSpec('label key of 64 characters', { labels: { ['k'.repeat(64)]: 'v' } }),
  withSpec('65 labels', { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }),
  withSpec('NUL in an annotation value', { annotations: { note: 'x\u0000y' } }),
  withConfig('NUL in a config value', { image: 'nginx\u0000' }),
  withConfig('control character in a config key', { 'im\u0007age': 'x' }),
  withConfig('config nested 11 levels', deep(10)),
  text(
    'config nested 5000 levels',
    `{"name":"a","spec":{"config":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`,
  ),
  text(
    'arrays nested 100 000 levels',
    `{"name":"a","spec":{"config":{"a":${'['.repeat(1e5)}${']'.repeat(1e5)}}}}`,
  ),
  {
    ...withConfig('body over 1 MiB', { image: 'x'.repeat(1024 * 1024) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  media('text/plain body', 'text/plain'),
  media('XML body', 'application/xml'),
  media('form body', 'application/x-www-form-urlencoded'),
  media('multipart body', 'multipart/form-data; boundary=x'),
  media('merge-patch body on POST', 'application/merge-patch+json'),
  {
    ...post('Idempotency-Key of 300 characters', { name: 'idem', spec: {} }),
    headers: { 'idempotency-key': 'k'.repeat(300) },
  },
];

export const REQUEST_CASES: readonly BadInputCase[] = [
  ...QUERIES.map((q) => get(`/v1/tenants?${q}`)),
  get('/v1/tenants/VICTIM/events?cursor=abc', 'tenant events cursor not a seq'),
  get('/v1/tenants/VICTIM/executions?status=bogus', 'executions status bogus'),
  get('/v1/callbacks?state=zombie', 'callbacks state bogus'),
  get('/v1/events?since=abc', 'events since not a number'),
  get('/v1/events', 'Last-Event-ID not a number', { 'last-event-id': 'x' }),
  get('/v1/tenants/ACME', 'upper-case tenant in the path'),
  get('/v1/tenants/..%2F..%2Fetc%2Fpasswd', 'path traversal in the path'),
  get('/v1/tenants/a%00b', 'NUL in the path'),
  get(`/v1/tenants/${encodeURIComponent("'; DROP TABLE tenants;--")}`, 'SQL in the path'),
  get('/v1/tenants/%zz', 'broken percent-encoding'),
  { ...get(`/v1/tenants/${'a'.repeat(400)}`, 'path parameter of 400 characters'), status: 414 },
  get('/v1/compute/executions/%3Cscript%3E', 'script tag as an execution id'),
  get('/v1/compute/providers/FAKE/schema', 'provider type upper-case'),
  write('PUT', 'PUT without spec', {}),
  write('PUT', 'PUT with name', { name: 'x', spec: spec() }),
  { ...write('PUT', 'PUT with bad If-Match', { spec: spec() }), headers: { 'if-match': 'v1' } },
  media('PATCH with text/plain', 'text/plain', '/v1/tenants/VICTIM', 'PATCH'),
  write('PATCH', 'PATCH of generation', { generation: 7 }),
  write('PATCH', 'PATCH removing the whole spec', { spec: null }),
  write('PATCH', 'PATCH nested too deep', { spec: { config: deep(30) } }),
  write('PATCH', 'PATCH with NUL in a label', { spec: { labels: { a: '\u0000' } } }),
  write('POST', 'retry with a body', { force: true }, '/v1/tenants/VICTIM/retry'),
  write('DELETE', 'DELETE purge=yes', undefined, '/v1/tenants/VICTIM?purge=yes'),
  { ...get('/v1/nothing', 'unknown route'), status: 404, code: 'NOT_FOUND' },
];
