/**
 * Shared fixtures of the ecs provider tests: explicit region and credentials (never the machine's
 * AWS chain), fast polling, request builders, a fake backend with a provider over it per test, and
 * the failure a call must end in.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import { ComputeError } from '../../../../domain/compute-error.js';
import { silentLogger } from '../../../../domain/logger.js';
import { testHasher } from '../../../../domain/testing/test-hasher.js';
import type { JsonObject } from '../../../../domain/tenant.js';
import type { ComputeProvider, ComputeRequest, ProviderSettings, TenantRef } from '../../../provider.js';
import { ALLOW_LISTS } from '../ecs-allow-list.js';
import { ecsProviderFactory } from '../ecs-provider-factory.js';
import { FakeEcsBackend } from './fake-ecs-backend.js';

export const REGION = 'eu-west-1';

/** Every list open: behaviour tests name any cluster, region or role; ecs-allow-list.test.ts narrows. */
export const ALLOW_EVERYTHING = Object.fromEntries(ALLOW_LISTS.map((list) => [list, ['*']]));

export const TEST_OPTIONS = {
  region: REGION,
  credentials: { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'test-secret-key' },
  maxAttempts: 1,
  pollIntervalMs: 1,
  waitTimeoutMs: 2000,
  allowed: ALLOW_EVERYTHING,
} as const;

export const VALID_CONFIG: JsonObject = {
  image: 'public.ecr.aws/nginx/nginx:1.27',
  cpu: 256,
  memory: 512,
  env: { MODE: 'prod' },
  secretEnv: { API_TOKEN: 's3cr3t-value' },
  ports: [{ containerPort: 80 }],
  subnets: ['subnet-0a1b2c3d4e5f60718'],
  securityGroups: ['sg-0123456789abcdef0'],
  tags: { team: 'platform' },
};

/** VALID_CONFIG with its output sent to CloudWatch Logs (the group the fake logs tests create). */
export const LOGGED_CONFIG: JsonObject = {
  ...VALID_CONFIG,
  executionRoleArn: 'arn:aws:iam::123456789012:role/ecsTaskExecutionRole',
  logs: { group: '/lessor/tenants' },
};

export const UPDATED_CONFIG: JsonObject = {
  ...VALID_CONFIG,
  image: 'public.ecr.aws/nginx/nginx:1.28',
  desiredCount: 2,
};

export function makeEcsProvider(
  options: Readonly<Record<string, unknown>> = {},
  defaults: JsonObject = {},
): Promise<ComputeProvider> {
  const settings: ProviderSettings = {
    options: { ...TEST_OPTIONS, ...options },
    defaults,
    timeoutMs: 10_000,
    dataDir: '/nonexistent',
    logger: silentLogger,
    hasher: testHasher,
  };
  return ecsProviderFactory.create(settings);
}

let counter = 0;

export function newTenant(name = `t${++counter}`): TenantRef {
  return { id: `0190a1b2-c3d4-7e5f-8a9b-${String(++counter).padStart(12, '0')}`, name };
}

export function request(
  tenant: TenantRef,
  config: JsonObject,
  generation = 1,
  operation = 'provision',
): ComputeRequest {
  return {
    tenant,
    generation,
    config,
    executionId: `ex-${tenant.id}-${operation}-g${generation}-0123456789abcdef`,
  };
}

export function signal(): AbortSignal {
  return AbortSignal.timeout(10_000);
}

/** The ComputeError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
export async function failure(promise: Promise<unknown>): Promise<ComputeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ComputeError, `expected a ComputeError, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected a failure');
}

/** What a suite's tests drive: the fake ECS the SDK clients talk to, and the provider over it. */
export interface FakeEcsRig {
  readonly ecs: FakeEcsBackend;
  readonly provider: ComputeProvider;
}

export interface FakeEcsRigOptions {
  /** Provider options over TEST_OPTIONS. */
  readonly provider?: Readonly<Record<string, unknown>>;
  /** The backend to start (default: `new FakeEcsBackend()`). */
  readonly backend?: () => FakeEcsBackend;
  /** One rig for the whole suite (before/after) instead of a fresh one per test. */
  readonly once?: boolean;
}

/**
 * Registers the current suite's hooks: a fresh fake backend and a provider over it before each test
 * (or once, before all), then the provider closed and the SDK clients unmocked. Read `rig.ecs` and
 * `rig.provider` inside the tests, never at registration.
 */
export function fakeEcsRig(options: FakeEcsRigOptions = {}): FakeEcsRig {
  let ecs: FakeEcsBackend | undefined;
  let provider: ComputeProvider | undefined;
  const [setUp, tearDown] = options.once ? [before, after] : [beforeEach, afterEach];
  setUp(async () => {
    ecs = options.backend?.() ?? new FakeEcsBackend();
    provider = await makeEcsProvider(options.provider);
  });
  tearDown(async () => {
    await provider?.close?.();
    ecs?.restore();
  });
  return {
    get ecs() {
      return ecs ?? assert.fail('the fake ECS backend is only there while a test runs');
    },
    get provider() {
      return provider ?? assert.fail('the ecs provider is only there while a test runs');
    },
  };
}
