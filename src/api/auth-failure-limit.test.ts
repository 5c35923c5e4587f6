import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../store/testing/test-databases.js';
import { createAuthFailureLimit } from './auth-failure-limit.js';
import { httpError, HttpProblem } from './problem.js';
import { createRateLimiter } from './rate-limit.js';
import { apiSuite } from './testing/api-harness.js';
import type { Problem } from './types.js';

const ATTACKER = '203.0.113.7';
const NEIGHBOUR = '203.0.113.8';
const bad = { authorization: 'Bearer not-a-token' };

for (const backend of backends()) {
  apiSuite(
    backend,
    'failed authentication is rate limited per IP',
    (h) => {
      h.test(
        'after 3 401s an IP gets 429 + Retry-After, even with a valid token; others and open routes unaffected',
        async () => {
          for (let i = 0; i < 3; i++) {
            const res = await h.inject({
              method: 'GET',
              url: '/v1/tenants',
              token: null,
              headers: bad,
              remoteAddress: ATTACKER,
            });
            assert.equal(res.statusCode, 401, `attempt ${i + 1}`);
          }
          const guessed = await h.inject({ method: 'GET', url: '/v1/tenants', remoteAddress: ATTACKER });
          assert.equal(guessed.statusCode, 429, 'the right token is not told apart while locked out');
          assert.equal(guessed.json<Problem>().code, 'RATE_LIMITED');
          assert.ok(Number(guessed.headers['retry-after']) >= 1);
          const open = await h.inject({
            method: 'GET',
            url: '/healthz',
            token: null,
            remoteAddress: ATTACKER,
          });
          assert.equal(open.statusCode, 200);
          const other = await h.inject({ method: 'GET', url: '/v1/tenants', remoteAddress: NEIGHBOUR });
          assert.equal(other.statusCode, 200);
        },
      );

      h.test('403 (a valid token with too weak a role) is not an authentication failure', async () => {
        const ip = '203.0.113.9';
        for (let i = 0; i < 5; i++) {
          const res = await h.inject({
            method: 'POST',
            url: '/v1/callbacks/x/redrive',
            token: 'viewer',
            remoteAddress: ip,
          });
          assert.equal(res.statusCode, 403);
        }
        const res = await h.inject({ method: 'GET', url: '/v1/tenants', token: 'viewer', remoteAddress: ip });
        assert.equal(res.statusCode, 200);
      });
    },
    { authFailuresPerMinute: 3 },
  );
}

describe('auth failure limit', () => {
  const unauthorized = (): never => {
    throw httpError('UNAUTHORIZED', 'the bearer token is not valid');
  };

  test('a locked-out IP is let in again once its bucket refills', () => {
    let now = 0;
    const limit = createAuthFailureLimit(3, () => now);
    for (let i = 0; i < 3; i++) {
      limit.assertNotLockedOut('a');
      assert.throws(() => limit.counting('a', unauthorized), /bearer token/);
    }
    assert.throws(
      () => limit.assertNotLockedOut('a'),
      (error: unknown) => error instanceof HttpProblem && error.code === 'RATE_LIMITED',
    );
    now += 20_000;
    assert.doesNotThrow(() => limit.assertNotLockedOut('a'), '3 per minute: one more after 20 s');
    assert.equal(
      limit.counting('a', () => 'ok'),
      'ok',
    );
  });

  test('0 disables the limit', () => {
    const limit = createAuthFailureLimit(0);
    for (let i = 0; i < 100; i++) assert.throws(() => limit.counting('a', unauthorized));
    assert.doesNotThrow(() => limit.assertNotLockedOut('a'));
  });

  test('the limiter holds at most maxKeys callers: the oldest is forgotten first', () => {
    const limiter = createRateLimiter(1, () => 0, 2);
    assert.equal(limiter.take('a'), 0);
    assert.ok(limiter.peek('a') > 0);
    assert.equal(limiter.take('b'), 0);
    assert.equal(limiter.take('c'), 0);
    assert.equal(limiter.peek('a'), 0, 'a was dropped to make room for c');
    assert.ok(limiter.peek('c') > 0);
  });
});
