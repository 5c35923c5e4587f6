import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedException,
  AttributeLimitExceededException,
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  ECSServiceException,
  InvalidParameterException,
  LimitExceededException,
  PlatformTaskDefinitionIncompatibilityException,
  ResourceInUseException,
  ResourceNotFoundException,
  ServerException,
  ServiceNotActiveException,
  ServiceNotFoundException,
  UpdateInProgressException,
} from '@aws-sdk/client-ecs';
import { ExpiredTokenException, STSServiceException } from '@aws-sdk/client-sts';
import { ComputeError, type ComputeErrorCode } from '../../../domain/compute-error.js';
import { mapEcsError } from './ecs-errors.js';
import { fakeEcsRig, newTenant, request, signal, VALID_CONFIG } from './testing/ecs-fixtures.js';

const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'req-1',
  attempts: 1,
  totalRetryDelay: 0,
});
const opts = (status: number) => ({ message: 'from AWS', $metadata: meta(status) });
/** How the SDK surfaces an error code it has no class for. */
const named = (
  name: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
) => new ECSServiceException({ name, $fault: fault, $metadata: meta(status), message: 'from AWS' });
const errno = (code: string) =>
  Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code, syscall: 'connect' });

const cases: { reason: string; error: unknown; code: ComputeErrorCode }[] = [
  { reason: 'throttled', error: named('ThrottlingException', 400), code: 'RATE_LIMITED' },
  { reason: 'too many requests', error: named('TooManyRequestsException', 429), code: 'RATE_LIMITED' },
  { reason: 'EC2-style throttle', error: named('RequestLimitExceeded', 503), code: 'RATE_LIMITED' },
  { reason: 'bare 429', error: named('SomethingNew', 429), code: 'RATE_LIMITED' },
  {
    reason: 'ECS server error',
    error: new ServerException(opts(500)),
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  },
  {
    reason: 'service unavailable',
    error: named('ServiceUnavailable', 503),
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  },
  {
    reason: 'internal failure',
    error: named('InternalFailure', 500),
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  },
  { reason: 'unknown 503', error: named('Whatever', 503), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
  {
    reason: 'unknown server fault',
    error: named('Whatever', 400, 'server'),
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  },
  { reason: 'connection refused', error: errno('ECONNREFUSED'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
  { reason: 'DNS failure', error: errno('ENOTFOUND'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
  { reason: 'connection reset', error: errno('ECONNRESET'), code: 'PROVIDER_TEMPORARILY_UNAVAILABLE' },
  {
    reason: 'SDK socket timeout',
    error: Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
    code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
  },
  { reason: 'client exception', error: new ClientException(opts(400)), code: 'INVALID_CONFIG' },
  { reason: 'invalid parameter', error: new InvalidParameterException(opts(400)), code: 'INVALID_CONFIG' },
  { reason: 'validation', error: named('ValidationException', 400), code: 'INVALID_CONFIG' },
  {
    reason: 'platform incompatible',
    error: new PlatformTaskDefinitionIncompatibilityException(opts(400)),
    code: 'INVALID_CONFIG',
  },
  { reason: 'access denied', error: new AccessDeniedException(opts(400)), code: 'PERMISSION_DENIED' },
  { reason: 'EC2-style unauthorized', error: named('UnauthorizedOperation', 403), code: 'PERMISSION_DENIED' },
  { reason: 'STS expired token', error: new ExpiredTokenException(opts(400)), code: 'PERMISSION_DENIED' },
  {
    reason: 'STS AssumeRole denied',
    error: new STSServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: meta(403),
      message: 'x',
    }),
    code: 'PERMISSION_DENIED',
  },
  { reason: 'unknown key id', error: named('UnrecognizedClientException', 400), code: 'PERMISSION_DENIED' },
  {
    reason: 'no credentials in the chain',
    error: Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    }),
    code: 'PERMISSION_DENIED',
  },
  { reason: 'bare 403', error: named('Forbidden', 403), code: 'PERMISSION_DENIED' },
  { reason: 'cluster not found', error: new ClusterNotFoundException(opts(400)), code: 'NOT_FOUND' },
  { reason: 'service not found', error: new ServiceNotFoundException(opts(400)), code: 'NOT_FOUND' },
  { reason: 'resource not found', error: new ResourceNotFoundException(opts(400)), code: 'NOT_FOUND' },
  { reason: 'limit exceeded', error: new LimitExceededException(opts(400)), code: 'QUOTA_EXCEEDED' },
  {
    reason: 'attribute limit',
    error: new AttributeLimitExceededException(opts(400)),
    code: 'QUOTA_EXCEEDED',
  },
  { reason: 'service quota', error: named('ServiceQuotaExceededException', 400), code: 'QUOTA_EXCEEDED' },
  { reason: 'service draining', error: new ServiceNotActiveException(opts(400)), code: 'CONFLICT' },
  { reason: 'resource in use', error: new ResourceInUseException(opts(400)), code: 'CONFLICT' },
  { reason: 'update in progress', error: new UpdateInProgressException(opts(400)), code: 'CONFLICT' },
  { reason: 'conflict', error: new ConflictException(opts(400)), code: 'CONFLICT' },
  {
    reason: 'our signal aborted',
    error: new DOMException('aborted', 'AbortError'),
    code: 'PROVIDER_TIMEOUT',
  },
  {
    reason: 'AbortSignal.timeout fired',
    error: new DOMException('timed out', 'TimeoutError'),
    code: 'PROVIDER_TIMEOUT',
  },
  {
    reason: 'SDK abort error',
    error: Object.assign(new Error('aborted'), { name: 'AbortError' }),
    code: 'PROVIDER_TIMEOUT',
  },
  { reason: 'unknown client error', error: named('BrandNewException', 400), code: 'INTERNAL' },
  { reason: 'not an error at all', error: 'boom', code: 'INTERNAL' },
];

describe('ecs error mapping', () => {
  for (const { reason, error, code } of cases) {
    it(`${reason} → ${code}`, () => {
      const mapped = mapEcsError(error, { retryAfterMs: 1234 });
      assert.equal(mapped.code, code);
      assert.equal(mapped.retryAfterMs, code === 'RATE_LIMITED' ? 1234 : undefined);
    });
  }

  it('keeps structured fields, no stack, and passes ComputeErrors through', () => {
    const mapped = mapEcsError(new ClusterNotFoundException(opts(400)), { retryAfterMs: 1 });
    assert.deepEqual(mapped.providerError, {
      name: 'ClusterNotFoundException',
      message: 'from AWS',
      fault: 'client',
      httpStatusCode: 400,
      requestId: 'req-1',
    });
    const original = new ComputeError('CONFLICT', 'x');
    assert.equal(mapEcsError(original, { retryAfterMs: 1 }), original);
  });
});

describe('ecs error mapping through the provider', () => {
  const rig = fakeEcsRig({ provider: { retryAfterMs: 777 }, once: true });

  const injected: { reason: string; command: string; error: Error; code: ComputeErrorCode }[] = [
    {
      reason: 'throttled observe',
      command: 'DescribeServices',
      error: named('ThrottlingException', 400),
      code: 'RATE_LIMITED',
    },
    {
      reason: 'denied registration',
      command: 'RegisterTaskDefinition',
      error: new AccessDeniedException(opts(400)),
      code: 'PERMISSION_DENIED',
    },
    {
      reason: 'service limit',
      command: 'CreateService',
      error: new LimitExceededException(opts(400)),
      code: 'QUOTA_EXCEEDED',
    },
    {
      reason: 'ECS outage',
      command: 'ListTaskDefinitions',
      error: new ServerException(opts(500)),
      code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
    },
    {
      reason: 'network down',
      command: 'DescribeServices',
      error: errno('ECONNREFUSED'),
      code: 'PROVIDER_TEMPORARILY_UNAVAILABLE',
    },
  ];
  for (const { reason, command, error, code } of injected) {
    it(`${reason} (${command}) → ${code}`, async () => {
      rig.ecs.inject(command, error);
      await assert.rejects(
        rig.provider.provision(request(newTenant(), VALID_CONFIG), signal()),
        (e: unknown) => {
          assert.ok(e instanceof ComputeError);
          assert.equal(e.code, code);
          if (code === 'RATE_LIMITED') assert.equal(e.retryAfterMs, 777);
          return true;
        },
      );
    });
  }
});
