/**
 * Post-processing of the generated OpenAPI document (pure): problem+json responses for the errors
 * each operation can answer, the headers of its responses, media types of the non-JSON endpoints,
 * request bodies that may be left out, examples of the main schemas (openapi-examples.ts), and a
 * tidy `components.schemas` (only what is referenced; `XInput` named `X` when no output schema `X`
 * exists).
 */
import { STATUS_CODES } from 'node:http';
import { SCHEMA_EXAMPLES } from './openapi-examples.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

type Json = Record<string, unknown>;
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);
const REF_PREFIX = '#/components/schemas/';

const TITLES: Readonly<Record<string, string>> = {
  '400': 'Validation failed (VALIDATION_FAILED)',
  '401': 'No or invalid bearer token (UNAUTHORIZED)',
  '403':
    'Role not allowed, a field only an admin may write (FORBIDDEN), or a raw spec the policy refuses (POLICY_VIOLATION)',
  '404': 'Not found (NOT_FOUND)',
  '409': 'Conflict (CONFLICT, INVALID_TRANSITION)',
  '412': 'If-Match is stale (PRECONDITION_FAILED)',
  '413': 'Body larger than the limit (PAYLOAD_TOO_LARGE)',
  '415': 'Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE)',
  '421': 'No-token mode only: Host is not a loopback name (MISDIRECTED_REQUEST)',
  '422':
    'Idempotency-Key reused with another body, or an unknown plan or a config broken by overrides (VALIDATION_FAILED); an override outside the plan (POLICY_VIOLATION)',
  '429': 'Rate limited, see Retry-After (RATE_LIMITED)',
  '500': 'Internal error (INTERNAL)',
  '503': 'Storage or engine unavailable, see Retry-After (STORE_UNAVAILABLE, UNAVAILABLE)',
};

const MEDIA: Readonly<Record<string, string>> = {
  '/v1/events': 'text/event-stream',
  '/metrics': 'text/plain',
};

const HEADERS: Readonly<Record<string, Json>> = {
  etag: {
    description: 'The tenant\'s version as a strong ETag (`"<version>"`), for `If-Match`.',
    schema: { type: 'string' },
  },
  location: { description: 'Path of the created tenant.', schema: { type: 'string' } },
  'idempotent-replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
  'retry-after': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } },
};

function problemCodes(path: string, method: string, op: Json): string[] {
  const open = Array.isArray(op.security) && op.security.length === 0;
  if (open) return ['421', '500', '503'];
  const codes = ['400', '401', '403', '421', '429', '500', '503'];
  if (path.includes('{')) codes.push('404');
  if (method !== 'get') codes.push('409', '413', '415');
  if (['put', 'patch', 'delete'].includes(method) || path.endsWith('/retry') || path.endsWith('/rollback'))
    codes.push('412');
  const tenantWrite =
    path === '/v1/tenants' || path === '/v1/tenants/{idOrName}' || path.endsWith('/rollback');
  if (tenantWrite && method !== 'get' && method !== 'delete') codes.push('422');
  return codes;
}

function completeOperation(path: string, method: string, op: Json): void {
  const responses = (op.responses ??= {}) as Json;
  for (const code of problemCodes(path, method, op)) {
    responses[code] ??= {
      description: TITLES[code],
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: `${REF_PREFIX}Problem` } } },
    };
  }
  const media = MEDIA[path];
  if (media) responses['200'] = { description: 'OK', content: { [media]: { schema: { type: 'string' } } } };
  for (const [status, response] of Object.entries(responses) as [string, Json][]) {
    if (response.description === 'Default Response') response.description = STATUS_CODES[status] ?? status;
    const headers = responseHeaders(status, response, method === 'post' && path === '/v1/tenants');
    if (headers.length > 0) response.headers = Object.fromEntries(headers.map((h) => [h, HEADERS[h]]));
  }
  if (op.requestBody) op.requestBody = optionalBody(op.requestBody as Json);
}

/** ETag on every tenant answer; Location (and a replay mark) on a create; Retry-After on 429 and 503. */
function responseHeaders(status: string, response: Json, create: boolean): string[] {
  if (status === '429' || status === '503') return ['retry-after'];
  const json = (response.content as Json | undefined)?.['application/json'] as Json | undefined;
  const isTenant = (json?.schema as Json | undefined)?.$ref === `${REF_PREFIX}Tenant`;
  if (!isTenant || !status.startsWith('2')) return [];
  return create ? ['location', 'etag', 'idempotent-replayed'] : ['etag'];
}

/**
 * A body schema that also accepts `null` (zod `.nullish()`, as on `/retry`) is a body the client
 * may leave out: not required, and documented as the object it is when sent.
 */
function optionalBody(body: Json): Json {
  const content = (body.content ?? {}) as Record<string, Json>;
  const media = Object.values(content);
  const nullable = (schema: unknown): boolean =>
    Array.isArray((schema as Json | undefined)?.anyOf) &&
    ((schema as Json).anyOf as Json[]).some((s) => s.type === 'null');
  if (media.length === 0 || !media.every((m) => nullable(m.schema))) return body;
  const sent = Object.fromEntries(
    Object.entries(content).map(([type, m]) => {
      const branches = ((m.schema as Json).anyOf as Json[]).filter((s) => s.type !== 'null');
      return [type, { ...m, schema: branches.length === 1 ? branches[0] : { anyOf: branches } }];
    }),
  );
  return { ...body, required: false, content: sent };
}

function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, into));
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string' && v.startsWith(REF_PREFIX))
        into.add(v.slice(REF_PREFIX.length));
      else collectRefs(v, into);
    }
  }
}

function renameRefs(value: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => renameRefs(v, names));
  if (value === null || typeof value !== 'object') return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const target =
      key === '$ref' && typeof v === 'string' ? names.get(v.slice(REF_PREFIX.length)) : undefined;
    out[key] = target !== undefined ? `${REF_PREFIX}${target}` : renameRefs(v, names);
  }
  return out;
}

/** Components reachable from the paths, with their final names. */
function tidySchemas(doc: Json): Json {
  const components = (doc.components ?? {}) as Json;
  const schemas = (components.schemas ?? {}) as Json;
  const reachable = new Set<string>();
  collectRefs(doc.paths, reachable);
  for (let queue = [...reachable]; queue.length > 0;) {
    const found = new Set<string>();
    collectRefs(schemas[queue.pop()!], found);
    for (const name of found) {
      if (reachable.has(name)) continue;
      reachable.add(name);
      queue.push(name);
    }
  }
  const names = new Map<string, string>();
  for (const name of reachable) {
    const base = name.endsWith('Input') ? name.slice(0, -'Input'.length) : name;
    names.set(name, base !== name && !reachable.has(base) ? base : name);
  }
  const kept = Object.fromEntries(
    [...reachable].sort().map((n) => [names.get(n)!, withExamples(names.get(n)!, withoutIds(schemas[n]))]),
  );
  return renameRefs({ ...doc, components: { ...components, schemas: kept } }, names) as Json;
}

/** JSON Schema 2020-12 `examples` for the schemas that have some. */
function withExamples(name: string, schema: unknown): unknown {
  const examples = SCHEMA_EXAMPLES[name];
  if (examples === undefined || schema === null || typeof schema !== 'object') return schema;
  return { ...schema, examples };
}

/** The zod transform leaves `$id` (the pre-rename name) and `$schema` on components: noise in OpenAPI 3.1. */
function withoutIds(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return schema;
  const { $id: _id, $schema: _schema, ...rest } = schema as Json;
  return rest;
}

export function finishDocument(doc: Json): Json {
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.has(method) && op !== null && typeof op === 'object')
        completeOperation(path, method, op as Json);
    }
  }
  return tidySchemas(doc);
}
