/**
 * `tenantDocumentText` writes exactly what `serializeTenantView` writes for the same row, or
 * nothing: compared over generated specs and statuses (plans, suspension, unicode, escapes, odd
 * numbers, unknown fields, shuffled key orders, index-like and `__proto__` keys), through the store's
 * own codecs; and a secret value never reaches the document on either path.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FAKE_CONFIG_SCHEMA } from '../compute/providers/fake/index.js';
import { mapSecretValues, mayHoldSecrets, redactByKeyName, redactConfig } from '../compute/secrets.js';
import { SecretKeyRing } from '../domain/secret-key-ring.js';
import type { JsonObject, TenantSpec, TenantStatus } from '../domain/tenant.js';
import { PLAIN_SPECS, specCodec, type SpecCodec } from '../store/sealed-specs.js';
import { viewDocument } from '../store/tenant-rows.js';
import type { ProviderCatalog } from './api-deps.js';
import { SPEC_MEMO_SIZE, tenantDocumentText } from './tenant-document-text.js';
import { serializeTenantView } from './tenant-view.js';

/** `fake` has a schema (secretEnv is secret); any other provider redacts by key name. */
const schemaOf = (type: string) => (type === 'fake' ? FAKE_CONFIG_SCHEMA : undefined);
const providers = {
  redactSecrets: (type: string, config: JsonObject) => {
    const schema = schemaOf(type);
    return schema ? redactConfig(schema, config) : redactByKeyName(config);
  },
  mayHoldSecrets: (type: string, text: string) => mayHoldSecrets(schemaOf(type), text),
} as unknown as ProviderCatalog;

const sealed = specCodec({
  ring: new SecretKeyRing([randomBytes(32)]),
  fields: {
    mapSecrets: (type, config, fn) => {
      const schema = schemaOf(type);
      return schema ? mapSecretValues(schema, config, fn) : config;
    },
    mayHoldSecrets: (type, text) => mayHoldSecrets(schemaOf(type), text),
  },
});
const CODECS: readonly [string, SpecCodec][] = [
  ['sealed', sealed],
  ['plain', PLAIN_SPECS],
];

const ID = '0190f5b4-7a1e-7c3d-9a4b-1234567890ab';

/** A row as the store reads it, the spec written by `codec` (sealed secrets, when it seals). */
function rowOf(codec: SpecCodec, spec: unknown, status: unknown, name = 'acme') {
  return {
    id: ID,
    name,
    spec: codec.encode(ID, spec as TenantSpec, false),
    generation: 3,
    status: JSON.stringify(status),
    version: 7,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-02T00:00:00.000Z',
  };
}

/** The fast path's answer, after checking it is the full render's bytes whenever it answers. */
function fastOrNothing(codec: SpecCodec, spec: unknown, status: unknown, name?: string): string | undefined {
  const document = viewDocument(rowOf(codec, spec, status, name), codec);
  const fast = tenantDocumentText(document, providers);
  const full = serializeTenantView(document.tenant(), providers);
  if (fast !== undefined) assert.equal(fast, full);
  return fast;
}

const BENCH_SPEC = {
  provider: 'fake',
  config: {
    image: 'registry.example/app:1.4.2',
    env: { MODE: 'production', REGION: 'eu-west-1' },
    ports: [{ containerPort: 8080 }],
  },
  labels: { plan: 'pro', region: 'eu' },
  annotations: {},
  retryPolicy: null,
  paused: false,
};

const BENCH_STATUS: TenantStatus = {
  phase: 'ready',
  observedGeneration: 1,
  message: 'runtime matches generation 1',
  compute: { executionId: 'ex-1', operation: 'provision', status: 'succeeded' },
  workflow: { runId: 'run-1', action: 'provision', state: 'succeeded', attempt: 1 },
  resources: { runtimeName: 'lessor-a', volumeId: 'fake-vol-1', runtimeId: 'fake-rt-1' },
  endpoints: [{ name: 'http', url: 'http://lessor-a.fake.invalid:8080' }],
  lastError: null,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'RuntimeReady',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00.000Z',
      observedGeneration: 1,
    },
  ],
};

// ---- generators -------------------------------------------------------------------------------

const anyString = fc.string({ unit: 'binary', maxLength: 12 });
/** Numbers whose text `JSON.stringify` writes in every form it has. */
const oddNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e21, 1e-7, 0.1, 5e-324, 2 ** 53, -1.5e300),
);
/** Printable text without a backslash (`mayHoldSecrets` counts any `\u` in a text as possibly secret). */
const plainText = fc.string().map((text) => text.replaceAll('\\', '/'));

/** What the generators below draw their leaves from. */
interface Leaves {
  readonly text: fc.Arbitrary<string>;
  readonly key: fc.Arbitrary<string>;
  readonly number: fc.Arbitrary<number>;
  readonly json: fc.Arbitrary<unknown>;
  /** How often an object's keys are shuffled or an unknown field added, against left as they are. */
  readonly oddWeight: number;
}

/** Anything JSON can carry: unicode, lone surrogates, control characters, odd numbers and keys. */
const WILD: Leaves = {
  text: anyString,
  key: fc.oneof(anyString, fc.constantFrom('__proto__', '1', '01', 'a b', 'é', '\u2028', '"', '\\')),
  number: oddNumber,
  json: fc.jsonValue({ maxDepth: 3 }),
  oddWeight: 1,
};

/** Mostly what the server writes, now and then shuffled or with an unknown field. */
const TAME: Leaves = {
  text: fc.oneof(plainText, fc.constantFrom('é', 'ü-日本', '😀', 'a"b', 'x\ny')),
  key: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,6}$/),
  number: fc.oneof(fc.integer({ min: -1000, max: 100_000 }), fc.constantFrom(0.5, 1.25, 0.001)),
  json: fc.oneof(
    plainText,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(plainText, { maxLength: 2 }),
  ),
  oddWeight: 0.1,
};

function generators(g: Leaves) {
  const leaf = fc.oneof(g.text, g.number, fc.boolean(), fc.constant(null), g.json);
  const odd = Math.max(1, Math.round(g.oddWeight * 10));
  const plainWeight = Math.round(10 / Math.max(g.oddWeight, 0.1)) / 10;
  /** `value` as is, or with its keys in another order (`JSON.parse` keeps a text's order). */
  const maybeShuffled = <T extends object>(value: T): fc.Arbitrary<T> => {
    const entries = Object.entries(value);
    return fc.oneof(
      { arbitrary: fc.constant(value), weight: Math.max(1, Math.round(plainWeight)) },
      {
        arbitrary: fc
          .shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length })
          .map((shuffled) => Object.fromEntries(shuffled) as T),
        weight: odd,
      },
    );
  };
  /** Optional fields: absent (undefined, which JSON leaves out) or one of `values`. */
  const absentOr = <T>(...values: fc.Arbitrary<T>[]) => fc.oneof(fc.constant(undefined), ...values);
  const extra = fc.oneof(
    { arbitrary: fc.constant(undefined), weight: Math.max(1, Math.round(plainWeight)) },
    { arbitrary: leaf, weight: odd },
  );
  const config = fc.dictionary(
    fc.oneof(g.key, fc.constantFrom('image', 'env', 'ports', 'secretEnv', 'password', 'apiToken')),
    fc.oneof(leaf, fc.dictionary(g.key, leaf, { maxKeys: 3 })),
    { maxKeys: 5 },
  );
  const stringMap = fc.dictionary(g.key, g.text, { maxKeys: 4 });
  const spec = fc
    .record({
      provider: fc.constantFrom('fake', 'plain'),
      plan: absentOr(
        fc.constant(null),
        fc.record({ name: fc.constantFrom('gold', 'ä'), revision: fc.integer({ min: 1, max: 9 }) }),
        fc.record({ revision: fc.integer({ min: 1, max: 9 }), name: fc.constant('gold'), extra: leaf }),
      ),
      config,
      labels: stringMap,
      annotations: stringMap,
      retryPolicy: fc.oneof(fc.constant(null), fc.dictionary(g.key, leaf, { maxKeys: 3 })),
      paused: fc.oneof(fc.boolean(), fc.boolean(), leaf),
      suspended: absentOr(fc.boolean(), fc.boolean(), leaf),
      unknownField: extra,
    })
    .chain(maybeShuffled);
  const withExtra = <T extends object>(record: fc.Arbitrary<T>) =>
    fc
      .tuple(record, extra)
      .map(([value, more]) => ({ ...value, ...(more !== undefined && { internal: more }) }))
      .chain(maybeShuffled);
  const condition = withExtra(
    fc.record({
      type: fc.constantFrom('Ready', 'Degraded'),
      status: fc.constantFrom('True', 'False'),
      reason: g.text,
      message: g.text,
      lastTransitionTime: fc.constant('2026-01-01T00:00:00.000Z'),
      observedGeneration: g.number,
    }),
  );
  const status = fc
    .record({
      phase: fc.constantFrom('ready', 'failed', 'provisioning'),
      observedGeneration: g.number,
      message: g.text,
      compute: fc.oneof(
        fc.constant(null),
        withExtra(
          fc.record({
            executionId: g.text,
            operation: fc.constant('provision'),
            status: fc.constant('succeeded'),
          }),
        ),
      ),
      workflow: fc.oneof(
        fc.constant(null),
        withExtra(
          fc.record({
            runId: g.text,
            action: fc.constant('provision'),
            state: fc.constant('running'),
            attempt: g.number,
          }),
        ),
      ),
      resources: stringMap,
      endpoints: fc.array(withExtra(fc.record({ name: g.text, url: g.text })), { maxLength: 2 }),
      lastError: fc.oneof(
        fc.constant(null),
        withExtra(
          fc.record(
            {
              code: fc.constant('QUOTA_EXCEEDED'),
              message: g.text,
              classification: fc.constant('retriable'),
              retryAfterMs: g.number,
              partial: g.json,
              providerError: g.json,
            },
            { requiredKeys: ['code', 'message', 'classification'] },
          ),
        ),
      ),
      conditions: fc.array(condition, { maxLength: 3 }),
      effectiveConfigHash: absentOr(fc.constant(null), g.text),
      unknownField: extra,
    })
    .chain(maybeShuffled);
  return { spec, status };
}

/** What the server itself writes: domain key order, plain text, no secret field. */
const writtenSpec = fc.record(
  {
    provider: fc.constantFrom('fake', 'plain'),
    plan: fc.record({ name: fc.constant('gold'), revision: fc.integer({ min: 1, max: 9 }) }),
    config: fc.record({
      image: plainText,
      env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,8}$/), plainText),
    }),
    labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), plainText),
    annotations: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), plainText),
    retryPolicy: fc.oneof(fc.constant(null), fc.record({ maxAttempts: fc.integer({ min: 1, max: 9 }) })),
    paused: fc.boolean(),
    suspended: fc.boolean(),
  },
  { requiredKeys: ['provider', 'config', 'labels', 'annotations', 'retryPolicy', 'paused'] },
);

const { spec: WILD_SPEC, status: WILD_STATUS } = generators(WILD);

// ---- tests -------------------------------------------------------------------------------------

describe('tenantDocumentText', () => {
  for (const [codecName, codec] of CODECS) {
    for (const [leavesName, leaves, least] of [
      ['wild', WILD, 0],
      ['tame', TAME, 150],
    ] as const) {
      test(`${codecName} specs, ${leavesName} values: the full render's bytes or nothing`, () => {
        const { spec, status } = generators(leaves);
        let answered = 0;
        fc.assert(
          fc.property(spec, status, leaves.text, (s, t, name) => {
            if (fastOrNothing(codec, s, t, name) !== undefined) answered++;
          }),
          { numRuns: 2000 },
        );
        // Not a test that passes by never answering.
        assert.ok(answered >= least, `the fast path answered ${answered} of 2000`);
      });
    }

    test(`${codecName} specs: a spec as the server writes it takes the fast path`, () => {
      const plainStatus = { ...BENCH_STATUS, effectiveConfigHash: 'abc' };
      fc.assert(
        fc.property(writtenSpec, (s) => {
          assert.notEqual(fastOrNothing(codec, s, plainStatus), undefined);
        }),
        { numRuns: 500 },
      );
    });

    test(`${codecName} specs: a secret value reaches the document on no path`, () => {
      const secret = 'S3CRET-value';
      fc.assert(
        fc.property(WILD_SPEC, WILD_STATUS, fc.constantFrom('fake', 'plain'), (s, t, provider) => {
          const withSecret = {
            ...s,
            provider,
            // Where each provider keeps secrets: `fake` in its schema's secret field, any
            // other under credential-named keys at any depth.
            config:
              provider === 'fake'
                ? { ...s.config, secretEnv: { K: secret } }
                : { ...s.config, password: secret, nested: { apiToken: secret } },
          };
          const document = viewDocument(rowOf(codec, withSecret, t), codec);
          const body =
            tenantDocumentText(document, providers) ?? serializeTenantView(document.tenant(), providers);
          assert.equal(body.includes(secret), false, body);
          assert.equal(tenantDocumentText(document, providers), undefined);
        }),
        { numRuns: 500 },
      );
    });
  }

  test("the bench's seeded tenant (no plan, no suspended, no effectiveConfigHash) takes the fast path", () => {
    for (const [, codec] of CODECS) {
      const fast = fastOrNothing(codec, BENCH_SPEC, BENCH_STATUS);
      assert.ok(fast?.includes('"plan":null') && fast.includes('"effectiveConfigHash":null'));
    }
  });

  test("long texts: the full render's bytes or nothing, never a thrown matcher", () => {
    for (const length of [10_000, 1_000_000]) {
      const long = {
        ...BENCH_SPEC,
        annotations: { note: 'x'.repeat(length) },
        config: { list: Array(5000).fill(1) },
      };
      for (const [, codec] of CODECS) fastOrNothing(codec, long, BENCH_STATUS);
    }
  });

  test('texts not as JSON.stringify writes them are refused, never rewritten', () => {
    // (A repeated key is not among them: every writer of these texts is JSON.stringify, which
    // never repeats one — wire-text.ts.)
    const specText = JSON.stringify(BENCH_SPEC);
    const odd = [
      specText.replace('"labels":', '"labels" :'),
      specText.replace('app:1.4.2', 'app:1.4.2\\/x'),
      specText.replace('app:1.4.2', 'app\\u003a1.4.2'),
      specText.replace('8080', '8080.0'),
      specText.replace('8080', '8.08e3'),
      specText.replace('"MODE":', '"1":"x","MODE":'),
      specText.replace('"MODE":', '"__proto__":{},"MODE":'),
      specText.replace('production', 'prod\uD800uction'),
      specText.replace('production', 'prod\tuction'),
      specText.slice(0, -1),
      `${specText} `,
    ];
    for (const text of odd) {
      const document = {
        ...viewDocument(rowOf(PLAIN_SPECS, BENCH_SPEC, BENCH_STATUS), PLAIN_SPECS),
        specText: text,
      };
      assert.equal(tenantDocumentText(document, providers), undefined, text);
    }
  });

  test("remembered specs: the same bytes again, past the memo's size, and per catalog", () => {
    const document = viewDocument(rowOf(PLAIN_SPECS, BENCH_SPEC, BENCH_STATUS), PLAIN_SPECS);
    const first = tenantDocumentText(document, providers);
    assert.equal(first, serializeTenantView(document.tenant(), providers));
    assert.equal(tenantDocumentText(document, providers), first);
    // Another catalog decides for itself: one that may see a secret in every text gets nothing.
    const wary = { ...providers, mayHoldSecrets: () => true } as unknown as ProviderCatalog;
    assert.equal(tenantDocumentText(document, wary), undefined);
    // More distinct specs than the memo holds: each still renders as the full path does.
    for (let i = 0; i < SPEC_MEMO_SIZE + 10; i++) {
      const spec = { ...BENCH_SPEC, labels: { plan: `p${i}`, region: 'eu' } };
      assert.notEqual(fastOrNothing(PLAIN_SPECS, spec, BENCH_STATUS), undefined);
      if (i % 100 === 0) assert.notEqual(fastOrNothing(PLAIN_SPECS, BENCH_SPEC, BENCH_STATUS), undefined);
    }
    assert.equal(tenantDocumentText(document, providers), first);
  });
});
