import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';

import { StoreUnavailableError, UnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import { createLogger } from './logger.js';

/** A logger writing JSON lines into memory. */
function capture(level: 'info' | 'debug' = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level, format: 'json' }, stream);
  const records = (): Record<string, unknown>[] =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger redacts secrets', () => {
  const SECRET = 's3cr3t-value';
  const cases: { reason: string; record: Record<string, unknown>; censored: string }[] = [
    {
      reason: 'secretEnv of a compute config logged on its own',
      record: { config: { image: 'nginx', secretEnv: { API_KEY: SECRET } } },
      censored: 'config.secretEnv',
    },
    {
      reason: 'secretEnv inside a logged spec',
      record: { spec: { config: { secretEnv: { API_KEY: SECRET } } } },
      censored: 'spec.config.secretEnv',
    },
    {
      reason: 'secretEnv inside a logged tenant',
      record: { tenant: { spec: { config: { secretEnv: { API_KEY: SECRET } } } } },
      censored: 'tenant.spec.config.secretEnv',
    },
    {
      reason: 'the authorization header of a request',
      record: { req: { method: 'GET', headers: { authorization: `Bearer ${SECRET}` } } },
      censored: 'req.headers.authorization',
    },
    { reason: 'a token field', record: { token: SECRET }, censored: 'token' },
    {
      reason: 'a password field one level down',
      record: { db: { password: SECRET } },
      censored: 'db.password',
    },
  ];
  for (const c of cases) {
    test(c.reason, () => {
      const { logger, lines, records } = capture();
      logger.info(c.record, 'something happened');
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]?.includes(SECRET), `secret leaked: ${lines.join()}`);
      const value = c.censored
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], records()[0]);
      assert.equal(value, '***');
    });
  }
});

describe('createLogger output', () => {
  test('records carry service=lessor, the message and an ISO time', () => {
    const { logger, records } = capture();
    logger.info({ tenantId: 't1' }, 'hello');
    const [record] = records();
    assert.equal(record?.service, 'lessor');
    assert.equal(record?.msg, 'hello');
    assert.equal(record?.tenantId, 't1');
    assert.match(String(record?.time), /^\d{4}-\d{2}-\d{2}T/);
  });

  test('the configured level filters records', () => {
    const { logger, records } = capture('info');
    logger.debug('hidden');
    logger.warn('shown');
    assert.deepEqual(
      records().map((r) => r.msg),
      ['shown'],
    );
  });

  test('children keep the redaction and satisfy the domain Logger shape', () => {
    const { logger, lines } = capture();
    const domainLogger: Logger = logger;
    domainLogger.child({ component: 'api' }).info({ token: 'child-secret' }, 'x');
    assert.ok(!lines.join('').includes('child-secret'));
  });
});

describe('createLogger quiets store-unavailable errors (the store logs each incident once)', () => {
  const cases = [
    { reason: 'a StoreUnavailableError at error', err: new StoreUnavailableError('disk full'), level: 20 },
    { reason: 'another error keeps its level', err: new Error('boom'), level: 50 },
    {
      reason: 'another unavailable dependency keeps its level',
      err: new UnavailableError('engine'),
      level: 50,
    },
  ];
  for (const c of cases) {
    test(c.reason, () => {
      const { logger, records } = capture('debug');
      logger.child({ component: 'worker' }).error({ err: c.err, runId: 'r1' }, 'store call failed');
      assert.deepEqual(
        records().map((r) => [r.level, r.msg, r.runId, r.component]),
        [[c.level, 'store call failed', 'r1', 'worker']],
      );
    });
  }

  test('at the default level such a line is not written at all', () => {
    const { logger, lines } = capture('info');
    logger.warn({ err: new StoreUnavailableError('read-only') }, 'reconcile failed; backing off');
    assert.deepEqual(lines, []);
  });
});
