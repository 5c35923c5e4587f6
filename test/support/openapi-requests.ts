/**
 * Requests generated from Lessor's own OpenAPI document (`GET /openapi.json`) with fast-check: for
 * every operation, path parameters, query parameters, headers and bodies that are mostly WRONG —
 * values that break the declared schema (wrong types, unknown fields, missing required fields,
 * pattern and range violations, malformed JSON, odd media types) — mixed with some valid ones so the
 * handlers behind validation are reached too.
 */
import fc from 'fast-check';

export type Schema = { readonly [key: string]: unknown };

export interface Param {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly schema: Schema;
}

export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly params: readonly Param[];
  readonly bodySchema?: Schema;
  readonly mediaTypes: readonly string[];
}

export interface GeneratedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly operation: string;
}

/** Operations of the document, minus `skip` (`GET /v1/events` streams forever). */
export function operationsOf(doc: Schema, skip: readonly string[]): Operation[] {
  const paths = doc.paths as Record<string, Record<string, Schema>>;
  return Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => !skip.includes(`${method.toUpperCase()} ${path}`))
      .map(([method, op]) => {
        const content = ((op.requestBody as Schema | undefined)?.content ?? {}) as Record<
          string,
          { schema: Schema }
        >;
        const mediaTypes = Object.keys(content);
        return {
          method: method.toUpperCase(),
          path,
          params: ((op.parameters ?? []) as Param[]).filter((p) => p.in !== ('cookie' as string)),
          ...(mediaTypes[0] !== undefined && { bodySchema: content[mediaTypes[0]]!.schema }),
          mediaTypes,
        };
      }),
  );
}

function resolve(schema: Schema, doc: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').pop()!;
  return ((doc.components as Schema).schemas as Record<string, Schema>)[name] ?? {};
}

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "'; DROP TABLE tenants;--",
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '\u0000',
    'ÄÖÜ-ñ',
    '%00',
    '${jndi:x}',
    'a'.repeat(5000),
    'UPPER_case!',
  ),
);
const junkScalar = fc.oneof(junkString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));

/** A value that satisfies `schema` (best effort: the subset of JSON Schema the document uses). */
export function validValue(schema: Schema, doc: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
  if (Array.isArray(s.anyOf))
    return fc.oneof(...(s.anyOf as Schema[]).map((a) => validValue(a, doc, depth + 1)));
  switch (s.type) {
    case 'string':
      return typeof s.pattern === 'string'
        ? fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= 200)
        : fc.string({ maxLength: 30 });
    case 'integer':
      return fc.integer({
        min: (s.minimum as number | undefined) ?? -1000,
        max: Math.min((s.maximum as number | undefined) ?? 1000, 1_000_000),
      });
    case 'number':
      return fc.double({
        min: (s.minimum as number | undefined) ?? -1000,
        max: (s.maximum as number | undefined) ?? 1000,
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return depth > 3
        ? fc.constant([])
        : fc.array(validValue((s.items as Schema) ?? {}, doc, depth + 1), { maxLength: 3 });
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = new Set((s.required ?? []) as string[]);
      if (depth > 3 || Object.keys(props).length === 0) return fc.constant({});
      const record = Object.fromEntries(
        Object.entries(props).map(([k, v]) => [k, validValue(v, doc, depth + 1)]),
      );
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in props) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value that breaks `schema`: a mutation of a valid one, or something of the wrong shape. */
export function invalidValue(schema: Schema, doc: Schema): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  const valid = validValue(s, doc);
  const props = Object.keys(s.properties ?? {});
  const required = (s.required ?? []) as string[];
  const mutations: fc.Arbitrary<unknown>[] = [junkScalar, fc.array(junkScalar, { maxLength: 3 })];
  if (s.type === 'object') {
    mutations.push(
      fc
        .tuple(
          valid,
          fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !props.includes(k)),
          junkScalar,
        )
        .map(([v, k, x]) => ({ ...(v as object), [k]: x })),
    );
    if (props.length > 0) {
      mutations.push(
        fc
          .tuple(valid, fc.constantFrom(...props), fc.constantFrom('x', 42, -1.5, true, [], { a: 1 }))
          .map(([v, k, x]) => ({ ...(v as object), [k]: x })),
        fc.tuple(valid, fc.constantFrom(...props)).chain(([v, k]) =>
          invalidValue((s.properties as Record<string, Schema>)[k] ?? {}, doc).map((x) => ({
            ...(v as object),
            [k]: x,
          })),
        ),
      );
    }
    if (required.length > 0) {
      mutations.push(
        fc
          .tuple(valid, fc.constantFrom(...required))
          .map(([v, k]) => Object.fromEntries(Object.entries(v as object).filter(([key]) => key !== k))),
      );
    }
  }
  return fc.oneof(...mutations);
}

const MEDIA = [
  'application/json',
  'application/merge-patch+json',
  'text/plain',
  'application/xml',
  'application/json; charset=latin1',
  'multipart/form-data; boundary=x',
];
const MALFORMED = [
  '{',
  '{"name":',
  '[1,2',
  'nul',
  '{"a":1}}',
  '\u0000',
  '{"name":"x","spec":{}} trailing',
  '{"__proto__":{"polluted":true}}',
];

function paramValue(param: Param, doc: Schema, target: string): fc.Arbitrary<string> {
  const valid = validValue(param.schema, doc).map(String);
  const base = param.in === 'path' ? fc.oneof(valid, fc.constant(target)) : valid;
  return fc.oneof(
    { weight: 2, arbitrary: base },
    { weight: 3, arbitrary: junkString },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
}

/** One request for `op`; `target` is an existing tenant's name, so some requests reach real data. */
export function requestFor(op: Operation, doc: Schema, target: string): fc.Arbitrary<GeneratedRequest> {
  const params = op.params.map((p) =>
    fc.option(paramValue(p, doc, target), { nil: undefined, freq: p.in === 'path' ? 1000 : 2 }),
  );
  const body = op.bodySchema
    ? fc.oneof(
        { weight: 6, arbitrary: invalidValue(op.bodySchema, doc).map((v) => JSON.stringify(v) ?? 'null') },
        { weight: 2, arbitrary: fc.constantFrom(...MALFORMED) },
        { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
      )
    : fc.option(fc.json({ maxDepth: 2 }), { nil: undefined, freq: 4 });
  const media = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(...(op.mediaTypes.length > 0 ? op.mediaTypes : ['application/json'])),
    },
    { weight: 1, arbitrary: fc.constantFrom(...MEDIA) },
  );
  return fc
    .tuple(fc.tuple(...params), body, media, fc.option(junkString, { nil: undefined }))
    .map(([values, text, contentType, extraQuery]) => {
      let path = op.path;
      const query = new URLSearchParams();
      const headers: Record<string, string> = {};
      op.params.forEach((param, i) => {
        const value = values[i];
        if (value === undefined) return;
        if (param.in === 'path') path = path.replace(`{${param.name}}`, encodeURIComponent(value) || '%20');
        else if (param.in === 'query') query.set(param.name, value);
        else if (/^[\t\x20-\x7e]*$/.test(value)) headers[param.name] = value;
      });
      if (extraQuery !== undefined) query.set('unknownParam', extraQuery);
      if (text !== undefined && op.method !== 'GET' && op.method !== 'HEAD')
        headers['content-type'] = contentType;
      const qs = query.toString();
      const send = text !== undefined && op.method !== 'GET' && op.method !== 'HEAD';
      return {
        method: op.method,
        path: `${path}${qs ? `?${qs}` : ''}`,
        headers,
        ...(send && { body: text }),
        operation: `${op.method} ${op.path}`,
      };
    });
}
