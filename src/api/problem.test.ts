import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConflictError,
  InvalidTransitionError,
  LessorError,
  NotFoundError,
  PreconditionFailedError,
  StoreUnavailableError,
  UnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { httpError, HttpProblem, toProblem } from './problem.js';

const request = { id: 'req-1', url: '/v1/tenants?x=1' };
const fastifyError = (statusCode: number, code: string) =>
  Object.assign(new Error(code), { statusCode, code });

test('every error maps to one status and stable code', () => {
  const cases: [string, unknown, number, string][] = [
    ['validation', new ValidationError('bad', [{ path: 'name', message: 'x' }]), 400, 'VALIDATION_FAILED'],
    ['not found', new NotFoundError('tenant', 'x'), 404, 'NOT_FOUND'],
    ['conflict', new ConflictError('dup'), 409, 'CONFLICT'],
    ['transition', new InvalidTransitionError('no'), 409, 'INVALID_TRANSITION'],
    ['stale version', new PreconditionFailedError(1, 2), 412, 'PRECONDITION_FAILED'],
    ['database down', new UnavailableError('down'), 503, 'UNAVAILABLE'],
    ['storage fault', new StoreUnavailableError('disk full'), 503, 'STORE_UNAVAILABLE'],
    ['pg connection refused', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 503, 'UNAVAILABLE'],
    ['pg admin shutdown', Object.assign(new Error('x'), { code: '57P01' }), 503, 'UNAVAILABLE'],
    ['sqlite busy', Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }), 503, 'UNAVAILABLE'],
    [
      'idempotency reuse',
      httpError('VALIDATION_FAILED', 'reused', { status: 422 }),
      422,
      'VALIDATION_FAILED',
    ],
    ['body too large', fastifyError(413, 'FST_ERR_CTP_BODY_TOO_LARGE'), 413, 'PAYLOAD_TOO_LARGE'],
    ['media type', fastifyError(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['invalid JSON', fastifyError(400, 'FST_ERR_CTP_INVALID_JSON_BODY'), 400, 'VALIDATION_FAILED'],
    ['param too long', fastifyError(414, 'FST_ERR_MAX_PARAM_LENGTH'), 414, 'VALIDATION_FAILED'],
    ['plain bug', new TypeError('x is undefined'), 500, 'INTERNAL'],
    ['thrown string', 'oops', 500, 'INTERNAL'],
    ['thrown null', null, 500, 'INTERNAL'],
  ];
  for (const [reason, error, status, code] of cases) {
    const problem = toProblem(error, request);
    assert.equal(problem.status, status, reason);
    assert.equal(problem.body.code, code, reason);
    assert.equal(problem.body.status, status, reason);
    assert.equal(problem.body.requestId, 'req-1');
    assert.equal(problem.body.instance, '/v1/tenants?x=1');
  }
  assert.equal(toProblem(new TypeError('secret'), request).body.detail, 'internal error');
  assert.deepEqual(
    toProblem(new ValidationError('bad', [{ path: 'name', message: 'x' }]), request).body.errors,
    [{ path: 'name', message: 'x' }],
  );
  for (const unavailable of [new UnavailableError('down'), new StoreUnavailableError('disk full')])
    assert.equal(toProblem(unavailable, request).headers['retry-after'], '5', unavailable.code);
  assert.match(
    toProblem(httpError('UNAUTHORIZED', 'x'), request).headers['www-authenticate'] ?? '',
    /^Bearer/,
  );
});

test('HTTP specifics travel on an HttpProblem, never in a domain error', () => {
  const limited = httpError('RATE_LIMITED', 'slow down', {
    headers: { 'retry-after': '7' },
    problems: [{ path: 'headers.authorization', message: 'too many failures' }],
  });
  assert.ok(limited instanceof HttpProblem);
  const problem = toProblem(limited, request);
  assert.equal(problem.status, 429);
  assert.equal(problem.headers['retry-after'], '7');
  assert.deepEqual(problem.body.errors, [{ path: 'headers.authorization', message: 'too many failures' }]);
  // A domain error's details are data about the domain: nothing in them can set a status or header.
  const smuggled = new LessorError('CONFLICT', 'dup', { http: { status: 200, headers: { 'x-evil': '1' } } });
  const mapped = toProblem(smuggled, request);
  assert.equal(mapped.status, 409);
  assert.equal(mapped.headers['x-evil'], undefined);
});
