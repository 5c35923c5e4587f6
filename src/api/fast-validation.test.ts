import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifySchema } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { fastValidatorCompiler } from './fast-validation.js';
import { IdOrNameParams, ListTenantsQuery, TenantViewQuery } from './schemas-query.js';

type Compiled = (data: unknown) => unknown;

function compile(compiler: unknown, schema: unknown): Compiled {
  const route = { schema: schema as FastifySchema, method: 'GET', url: '/x', httpPart: 'params' };
  return (compiler as (r: typeof route) => Compiled)(route);
}

/** The answer as a test can compare it: the value, or zod's error message. */
function outcome(result: unknown): unknown {
  const { value, error } = result as { value?: unknown; error?: Error };
  return error ? { error: error.message } : { value, prototype: Object.getPrototypeOf(value) as unknown };
}

function nullPrototype(fields: Record<string, unknown>): object {
  return Object.assign(Object.create(null) as object, fields);
}

const inherited = Object.create({ idOrName: 'acme' }) as object;

const cases: [string, unknown, unknown[]][] = [
  [
    'IdOrNameParams',
    IdOrNameParams,
    [
      { idOrName: 'acme' },
      { idOrName: '0191f0e2-7b2c-7cc3-9d4e-0a1b2c3d4e5f' },
      nullPrototype({ idOrName: 'acme-2' }),
      { idOrName: 'a'.repeat(128) },
      { idOrName: 'a'.repeat(129) },
      { idOrName: 'Acme' },
      { idOrName: '-acme' },
      { idOrName: '' },
      { idOrName: 'acme\n' },
      { idOrName: 42 },
      { idOrName: 'acme', extra: 'x' },
      {},
      inherited,
      null,
      'acme',
      ['acme'],
    ],
  ],
  [
    'TenantViewQuery',
    TenantViewQuery,
    [
      {},
      nullPrototype({}),
      { view: 'spec' },
      { view: 'effective' },
      nullPrototype({ view: 'effective' }),
      { view: 'Effective' },
      { view: ['spec', 'effective'] },
      { view: undefined },
      { view: 'spec', other: '1' },
      { other: '1' },
      null,
      [],
    ],
  ],
];

test('the validation shortcuts answer exactly what zod answers, for valid and invalid input', () => {
  for (const [name, schema, inputs] of cases) {
    const fast = compile(fastValidatorCompiler, schema);
    const zod = compile(validatorCompiler, schema);
    for (const input of inputs) {
      assert.deepEqual(
        outcome(fast(input)),
        outcome(zod(input)),
        `${name}: ${String(JSON.stringify(input))}`,
      );
    }
  }
});

test('other schemas are validated by zod alone', () => {
  const fast = compile(fastValidatorCompiler, ListTenantsQuery);
  const zod = compile(validatorCompiler, ListTenantsQuery);
  for (const input of [{}, { limit: '10' }, { limit: 'x' }, { phase: 'ready', q: 'ac' }]) {
    assert.deepEqual(outcome(fast(input)), outcome(zod(input)), JSON.stringify(input));
  }
});
