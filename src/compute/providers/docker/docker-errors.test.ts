import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import { DockerApiError, parseDockerHost, type DockerOperation } from './docker-client.js';
import { mapDockerError, toComputeError } from './docker-errors.js';

const apiError = (operation: DockerOperation, status: number): DockerApiError =>
  new DockerApiError({
    operation,
    method: 'POST',
    path: '/v1.41/x',
    status,
    body: { message: 'engine says no' },
  });

const errno = (code: string): Error =>
  Object.assign(new Error(`connect ${code}`), { code, syscall: 'connect' });

describe('mapDockerError', () => {
  const cases: { reason: string; error: unknown; code: ComputeErrorCode }[] = [
    {
      reason: 'create 404 is a missing image',
      error: apiError('createContainer', 404),
      code: 'IMAGE_UNAVAILABLE',
    },
    { reason: 'image inspect 404', error: apiError('inspectImage', 404), code: 'IMAGE_UNAVAILABLE' },
    {
      reason: 'network inspect 404 is a config error',
      error: apiError('inspectNetwork', 404),
      code: 'INVALID_CONFIG',
    },
    { reason: 'container 404', error: apiError('startContainer', 404), code: 'NOT_FOUND' },
    { reason: 'bad request', error: apiError('createContainer', 400), code: 'INVALID_CONFIG' },
    { reason: 'unauthorized', error: apiError('listContainers', 401), code: 'PERMISSION_DENIED' },
    { reason: 'forbidden', error: apiError('createContainer', 403), code: 'PERMISSION_DENIED' },
    { reason: 'conflict', error: apiError('createContainer', 409), code: 'CONFLICT' },
    { reason: 'too many requests', error: apiError('listContainers', 429), code: 'RATE_LIMITED' },
    {
      reason: 'engine 500',
      error: apiError('startContainer', 500),
      code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
    },
    { reason: 'engine 503', error: apiError('ping', 503), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
    { reason: 'other 4xx', error: apiError('createContainer', 422), code: 'INVALID_CONFIG' },
    { reason: 'odd status', error: apiError('createContainer', 302), code: 'INTERNAL' },
    { reason: 'socket missing', error: errno('ENOENT'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
    { reason: 'engine down', error: errno('ECONNREFUSED'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
    { reason: 'reset', error: errno('ECONNRESET'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
    { reason: 'broken pipe', error: errno('EPIPE'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
    { reason: 'socket not ours', error: errno('EACCES'), code: 'PERMISSION_DENIED' },
    { reason: 'abort', error: new DOMException('aborted', 'AbortError'), code: 'PROVIDER_TIMEOUT' },
    {
      reason: 'timeout signal',
      error: new DOMException('timed out', 'TimeoutError'),
      code: 'PROVIDER_TIMEOUT',
    },
    { reason: 'a bug', error: new TypeError('x is undefined'), code: 'INTERNAL' },
    { reason: 'a thrown string', error: 'boom', code: 'INTERNAL' },
  ];
  for (const { reason, error, code } of cases) {
    test(`${reason} → ${code}`, () => {
      const mapped = mapDockerError(error);
      assert.ok(mapped instanceof ComputeError);
      assert.equal(mapped.code, code);
      assert.equal(mapped.cause, error);
    });
  }

  test('providerError keeps status, method, path and the engine body; never message matching', () => {
    const mapped = mapDockerError(apiError('createContainer', 404));
    assert.deepEqual(mapped.providerError, {
      operation: 'createContainer',
      method: 'POST',
      path: '/v1.41/x',
      status: 404,
      body: { message: 'engine says no' },
    });
    assert.match(mapped.message, /engine says no/);
  });

  test('a ComputeError passes through unchanged', () => {
    const error = new ComputeError('HEALTH_CHECK_FAILED', 'nope');
    assert.equal(mapDockerError(error), error);
  });

  test('anything thrown after the signal aborted reads as PROVIDER_TIMEOUT, partial kept', () => {
    const partial = { succeeded: ['create'], failed: ['start'], resources: { containerId: 'c1' } };
    const inner = new ComputeError('PROVIDER_TEMPORARILY_UNAVAILABLE', 'reset', { partial });
    const mapped = toComputeError(inner, AbortSignal.abort());
    assert.equal(mapped.code, 'PROVIDER_TIMEOUT');
    assert.deepEqual(mapped.partial, partial);
    assert.equal(
      toComputeError(errno('ECONNRESET'), new AbortController().signal).code,
      'PROVIDER_TEMPORARILY_UNAVAILABLE',
    );
  });
});

describe('parseDockerHost', () => {
  const cases = [
    { host: 'unix:///run/lessor-podman.sock', want: { kind: 'unix', socketPath: '/run/lessor-podman.sock' } },
    { host: 'tcp://127.0.0.1:2375', want: { kind: 'tcp', host: '127.0.0.1', port: 2375 } },
    { host: 'http://docker.internal:2376', want: { kind: 'tcp', host: 'docker.internal', port: 2376 } },
    { host: 'tcp://engine', want: { kind: 'tcp', host: 'engine', port: 2375 } },
    { host: 'unix://relative.sock', want: undefined },
    { host: 'ssh://user@host', want: undefined },
    { host: 'nonsense', want: undefined },
  ];
  for (const { host, want } of cases) {
    test(`${host} → ${want ? want.kind : 'rejected'}`, () => assert.deepEqual(parseDockerHost(host), want));
  }
});
