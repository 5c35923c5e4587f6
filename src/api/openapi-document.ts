/**
 * Post-processing of the generated OpenAPI document (pure): problem+json responses for the errors
 * each operation can answer, media types of the non-JSON endpoints, and a tidy `components.schemas`
 * (only what is referenced; `XInput` named `X` when no output schema `X` exists).
 */
import { PROBLEM_CONTENT_TYPE } from './problem.js';

type Json = Record<string, unknown>;
const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);
const REF_PREFIX = '#/components/schemas/';

const TITLES: Readonly<Record<string, string>> = {
  '400': 'Validation failed (VALIDATION_FAILED)',
  '401': 'No or invalid bearer token (UNAUTHORIZED)',
  '403': 'Role not allowed (FORBIDDEN)',
  '404': 'Not found (NOT_FOUND)',
  '409': 'Conflict (CONFLICT, INVALID_TRANSITION)',
  '412': 'If-Match is stale (PRECONDITION_FAILED)',
  '413': 'Body larger than the limit (PAYLOAD_TOO_LARGE)',
  '415': 'Unsupported Content-Type (UNSUPPORTED_MEDIA_TYPE)',
  '422': 'Idempotency-Key reused with another body (VALIDATION_FAILED)',
  '429': 'Rate limited, see Retry-After (RATE_LIMITED)',
  '500': 'Internal error (INTERNAL)',
  '503': 'Storage or engine unavailable, see Retry-After (STORE_UNAVAILABLE, UNAVAILABLE)',
};

const MEDIA: Readonly<Record<string, string>> = {
  '/v1/events': 'text/event-stream',
  '/metrics': 'text/plain',
};

function problemCodes(path: string, method: string, op: Json): string[] {
  const open = Array.isArray(op.security) && op.security.length === 0;
  if (open) return ['500', '503'];
  const codes = ['400', '401', '403', '429', '500', '503'];
  if (path.includes('{')) codes.push('404');
  if (method !== 'get') codes.push('409', '413', '415');
  if (['put', 'patch', 'delete'].includes(method) || path.endsWith('/retry')) codes.push('412');
  if (method === 'post' && path === '/v1/tenants') codes.push('422');
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
  const kept = Object.fromEntries([...reachable].sort().map((n) => [names.get(n)!, withoutIds(schemas[n])]));
  return renameRefs({ ...doc, components: { ...components, schemas: kept } }, names) as Json;
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
