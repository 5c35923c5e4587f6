import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UnavailableError } from '../domain/errors.js';
import { databaseLabel } from './open-database.js';
import { failureReason } from './startup-error.js';

test('failureReason finds the telling message of a failure', () => {
  const refused = (address: string) =>
    Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
  const cases: readonly { reason: string; error: unknown; expected: string }[] = [
    { reason: 'a plain error: its message', error: new Error('boom'), expected: 'boom' },
    {
      reason: 'a wrapper ending in a colon: followed by its cause',
      error: new UnavailableError('database unavailable:', { cause: refused('127.0.0.1:1') }),
      expected: 'database unavailable: connect ECONNREFUSED 127.0.0.1:1',
    },
    {
      reason: 'an AggregateError without a message (localhost resolving to ::1 and 127.0.0.1): every part',
      error: new UnavailableError('database unavailable: ', {
        cause: new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')], ''),
      }),
      expected: 'database unavailable: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432',
    },
    { reason: 'not an Error', error: 'text', expected: 'text' },
  ];
  for (const c of cases) assert.equal(failureReason(c.error), c.expected, c.reason);
});

test('databaseLabel names a PostgreSQL database without its password', () => {
  const cases: readonly { url: string; expected: string }[] = [
    {
      url: 'postgres://lessor:hunter2@db.internal/lessor',
      expected: 'postgres://lessor@db.internal:5432/lessor',
    },
    { url: 'postgresql://db:6543/x', expected: 'postgresql://db:6543/x' },
    { url: 'sqlite:./data/lessor.db', expected: 'sqlite:./data/lessor.db' },
  ];
  for (const c of cases) assert.equal(databaseLabel(c.url), c.expected, c.url);
});
