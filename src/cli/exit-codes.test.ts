/** Exit codes scripts rely on: problem codes, HTTP statuses, network failures, usage errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommanderError } from 'commander';
import { ApiError } from '../api/client.js';
import type { Problem } from '../api/types.js';
import { UsageError } from './args.js';
import { EXIT_CODE_MEANINGS, ExitCode, exitCodeForProblem } from './exit-codes.js';
import { CommandFailure, describeFailure } from './failure.js';
import { exitCodeForCommander } from './program.js';

test('the documented codes are stable', () => {
  assert.deepEqual(ExitCode, {
    OK: 0,
    GENERIC: 1,
    USAGE: 2,
    NOT_FOUND: 3,
    CONFLICT: 4,
    VALIDATION: 5,
    UNAUTHORIZED: 6,
    TENANT_FAILED: 7,
    TIMEOUT: 8,
    UNREACHABLE: 9,
    ROLLOUT_HALTED: 10,
    ROLLOUT_ROLLED_BACK: 11,
    ROLLOUT_ABORTED: 12,
  });
  assert.deepEqual(Object.keys(EXIT_CODE_MEANINGS).map(Number), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
});

test('problem codes map to exit codes', () => {
  const cases: readonly { reason: string; code: string; status: number; expected: number }[] = [
    { reason: 'validation', code: 'VALIDATION_FAILED', status: 400, expected: 5 },
    { reason: 'body too large is a bad request', code: 'PAYLOAD_TOO_LARGE', status: 413, expected: 5 },
    { reason: 'wrong media type is a bad request', code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, expected: 5 },
    { reason: 'not found', code: 'NOT_FOUND', status: 404, expected: 3 },
    { reason: 'conflict (name taken, deleting)', code: 'CONFLICT', status: 409, expected: 4 },
    { reason: 'stale If-Match', code: 'PRECONDITION_FAILED', status: 412, expected: 4 },
    { reason: 'retry of a tenant that is not failed', code: 'INVALID_TRANSITION', status: 409, expected: 4 },
    { reason: 'no or wrong token', code: 'UNAUTHORIZED', status: 401, expected: 6 },
    { reason: 'role too weak', code: 'FORBIDDEN', status: 403, expected: 6 },
    { reason: 'rate limited is generic', code: 'RATE_LIMITED', status: 429, expected: 1 },
    { reason: 'server error', code: 'INTERNAL', status: 500, expected: 1 },
    { reason: 'dependency down', code: 'UNAVAILABLE', status: 503, expected: 1 },
    { reason: 'unknown code falls back on the status: 404', code: 'SOMETHING_NEW', status: 404, expected: 3 },
    { reason: 'unknown code falls back on the status: 422', code: 'SOMETHING_NEW', status: 422, expected: 5 },
    { reason: 'unknown code falls back on the status: 403', code: 'SOMETHING_NEW', status: 403, expected: 6 },
    { reason: 'unknown code falls back on the status: 502', code: 'SOMETHING_NEW', status: 502, expected: 1 },
  ];
  for (const { reason, code, status, expected } of cases)
    assert.equal(exitCodeForProblem(code, status), expected, reason);
});

function problem(overrides: Partial<Problem>): Problem {
  return {
    type: 'urn:lessor:problem:validation-failed',
    title: 'Request validation failed',
    status: 400,
    detail: 'spec.config.image: is required',
    code: 'VALIDATION_FAILED',
    instance: '/v1/tenants',
    requestId: 'req-1',
    ...overrides,
  };
}

test('API errors print title, detail, code and each field error', () => {
  const error = new ApiError(
    400,
    problem({
      errors: [
        { path: 'spec.config.image', message: 'is required' },
        { path: 'name', message: 'must be a DNS label' },
      ],
    }),
  );
  const failure = describeFailure(error, 'http://x');
  assert.equal(failure.exitCode, 5);
  assert.deepEqual(failure.lines, [
    'error: Request validation failed: spec.config.image: is required (VALIDATION_FAILED, HTTP 400)',
    '  spec.config.image: is required',
    '  name: must be a DNS label',
    '  request id: req-1',
  ]);
});

function fetchFailure(code: string): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`connect ${code}`), { code }) });
}

test('network failures are "server unreachable" (9) and name the server', () => {
  const cases: readonly { reason: string; error: unknown; expected: number }[] = [
    { reason: 'connection refused', error: fetchFailure('ECONNREFUSED'), expected: 9 },
    { reason: 'unknown host', error: fetchFailure('ENOTFOUND'), expected: 9 },
    { reason: 'connect timeout', error: fetchFailure('UND_ERR_CONNECT_TIMEOUT'), expected: 9 },
    {
      reason: 'request timeout',
      error: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      expected: 9,
    },
    {
      reason: 'a TypeError from a bug is not a network failure',
      error: new TypeError('x is not a function'),
      expected: 1,
    },
    {
      reason: 'an unknown socket code is not a network failure',
      error: fetchFailure('ESOMETHING'),
      expected: 1,
    },
  ];
  for (const { reason, error, expected } of cases) {
    const failure = describeFailure(error, 'http://127.0.0.1:1');
    assert.equal(failure.exitCode, expected, reason);
    if (expected === 9) assert.match(failure.lines[0] ?? '', /http:\/\/127\.0\.0\.1:1/, reason);
  }
});

test('usage errors are 2, command failures keep their code and details, anything else is 1', () => {
  assert.deepEqual(describeFailure(new UsageError('bad --port'), undefined), {
    exitCode: 2,
    lines: ['error: bad --port'],
  });
  const failed = describeFailure(
    new CommandFailure(ExitCode.TENANT_FAILED, 'tenant acme failed', ['  run: r1']),
    undefined,
  );
  assert.deepEqual(failed, { exitCode: 7, lines: ['error: tenant acme failed', '  run: r1'] });
  assert.equal(describeFailure(new Error('boom'), undefined).exitCode, 1);
  assert.equal(describeFailure('thrown string', undefined).exitCode, 1);
});

test("commander's own terminations: help and version are 0, every usage mistake is 2", () => {
  const cases: readonly { reason: string; code: string; exitCode: number; expected: number }[] = [
    { reason: '--help', code: 'commander.helpDisplayed', exitCode: 0, expected: 0 },
    { reason: '--version', code: 'commander.version', exitCode: 0, expected: 0 },
    { reason: 'group without subcommand shows help', code: 'commander.help', exitCode: 1, expected: 2 },
    { reason: 'unknown option', code: 'commander.unknownOption', exitCode: 1, expected: 2 },
    { reason: 'unknown command', code: 'commander.unknownCommand', exitCode: 1, expected: 2 },
    { reason: 'missing argument', code: 'commander.missingArgument', exitCode: 1, expected: 2 },
    { reason: 'bad option value', code: 'commander.invalidArgument', exitCode: 1, expected: 2 },
  ];
  for (const { reason, code, exitCode, expected } of cases) {
    assert.equal(exitCodeForCommander(new CommanderError(exitCode, code, 'x')), expected, reason);
  }
});
