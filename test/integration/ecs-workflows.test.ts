/**
 * Tenants with `provider: ecs` through the real composition root (`startLessor`: SQLite file,
 * embedded engine, controller, HTTP API), configured through the normal server config
 * (`compute.providers.ecs`), against a mocked AWS API: aws-sdk-client-mock patches `ECSClient` in
 * this process and the stateful FakeEcsBackend answers. The provider loads the SDK lazily with
 * `import('@aws-sdk/client-ecs')`, which returns the module this file already loaded (one module
 * instance per process), so the clients it makes are the patched class; a real AWS endpoint is
 * never reached. What exists "in AWS" is asserted on the fake backend, never on Lessor's tables.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AccessDeniedException,
  CreateServiceCommand,
  ECSServiceException,
  InvalidParameterException,
} from '@aws-sdk/client-ecs';
import { LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import type { ComputeErrorCode } from '../../src/domain/compute-error.js';
import { FakeCloudWatchLogs } from '../../src/compute/providers/ecs/testing/fake-cloudwatch-logs.js';
import { FakeEcsBackend } from '../../src/compute/providers/ecs/testing/fake-ecs-backend.js';
import { metadata } from '../../src/compute/providers/ecs/testing/fake-task-definitions.js';
import { executionsOf, expectedPath, historyPath, onlyExecution } from '../support/tenant-views.js';
import { waitFor, waitForPhase } from '../support/wait.js';
import { startYamlLessor, type YamlLessor } from '../support/yaml-lessor.js';

const IMAGE = 'public.ecr.aws/nginx/nginx:1.27';
const WAIT = { timeoutMs: 30_000 } as const;

/** The server configuration, as an operator would write it; fast polling and backoff for a test. */
const LESSOR_YAML = `
log: { level: warn }
engine: { type: embedded, embedded: { pollIntervalMs: 100 } }
controller: { resyncIntervalMs: 500, driftIntervalMs: 300 }
compute:
  defaultProvider: ecs
  providers:
    ecs:
      region: eu-west-1
      credentials: { accessKeyId: AKIATESTTESTTESTTEST, secretAccessKey: test-secret-key }
      maxAttempts: 1
      pollIntervalMs: 5
      waitTimeoutMs: 5000
      retryAfterMs: 20
      timeoutMs: 10000
      allowed:
        clusters: [blue]
        roleArns: ['arn:aws:iam::123456789012:role/*']
        logGroups: [/lessor/*]
      defaults:
        cluster: tenants
        cpu: 256
        memory: 512
        subnets: [subnet-0a1b2c3d4e5f60718]
        securityGroups: [sg-0123456789abcdef0]
retryPolicy:
  provision: { initialBackoffMs: 20, maxBackoffMs: 100 }
  update: { initialBackoffMs: 20, maxBackoffMs: 100 }
  delete: { initialBackoffMs: 20, maxBackoffMs: 100 }
  suspend: { initialBackoffMs: 20, maxBackoffMs: 100 }
  resume: { initialBackoffMs: 20, maxBackoffMs: 100 }
`;

function ecsTenant(name: string, config: Record<string, unknown> = {}) {
  return {
    name,
    spec: { provider: 'ecs', config: { image: IMAGE, ports: [{ containerPort: 80 }], ...config } },
  };
}

describe('ecs tenants through the workflows (mocked AWS API)', () => {
  let ecs: FakeEcsBackend;
  let cloudWatch: FakeCloudWatchLogs;
  let lessor: YamlLessor | undefined;
  let client: LessorClient;
  const logs: string[] = [];

  /** Log records of the server at warn and above (JSON lines). */
  const logRecords = (): Record<string, unknown>[] =>
    logs.map((line) => JSON.parse(line) as Record<string, unknown>);

  /** CreateService calls the fake saw for `service` (including ones that were made to fail). */
  const createCalls = (service: string): number =>
    ecs
      .callsOf('CreateService')
      .filter((input) => (input as { serviceName?: string }).serviceName === service).length;

  before(async () => {
    cloudWatch = new FakeCloudWatchLogs(['/lessor/tenants']);
    ecs = new FakeEcsBackend({ clusters: ['default', 'tenants', 'blue'], logs: cloudWatch });
    lessor = await startYamlLessor({
      prefix: 'lessor-ecs-',
      body: LESSOR_YAML,
      onLog: (line) => logs.push(line),
    });
    client = new LessorClient({ baseUrl: lessor.app.url });
  });

  after(async () => {
    await lessor?.close();
    ecs?.restore();
    cloudWatch?.restore();
  });

  describe('one tenant in its own cluster: create, update, delete', () => {
    let tenant: Tenant;

    test('create → ready; status shows the ECS service with its counts, in the cluster the tenant chose', async () => {
      const created = await client.createTenant(
        ecsTenant('shop', {
          cluster: 'blue',
          desiredCount: 2,
          env: { MODE: 'one' },
          endpointUrl: 'https://shop.example.com/',
        }),
      );
      tenant = await waitForPhase(client, created.id, 'ready', { ...WAIT, failOn: ['failed'] });

      assert.ok(
        ecs.mock.commandCalls(CreateServiceCommand).length > 0,
        'the lazily loaded SDK is the mocked one',
      );
      const { resources, endpoints } = tenant.status;
      assert.equal(resources.serviceName, 'lessor-shop');
      assert.match(resources.clusterArn ?? '', /:cluster\/blue$/);
      assert.match(resources.taskDefinitionArn ?? '', /:task-definition\/lessor-shop:1$/);
      assert.equal(resources.desiredCount, '2');
      assert.equal(resources.runningCount, '2');
      assert.deepEqual(endpoints, [{ name: 'default', url: 'https://shop.example.com/' }]);

      const [service, ...others] = ecs.liveServicesOf(tenant.id);
      assert.equal(others.length, 0, 'one ECS service for the tenant');
      assert.equal(service?.serviceArn, resources.serviceArn);
      assert.equal(service?.status, 'ACTIVE');
      assert.equal(service?.runningCount, 2);
      assert.equal(ecs.service('tenants', 'lessor-shop'), undefined, 'nothing in the default cluster');

      // The controller's drift check (every 300 ms) describes the ready tenant where it lives; had it
      // looked in the provider defaults' cluster it would have found nothing and started a repair.
      const seen = ecs.calls.length;
      await waitFor(
        'a drift check to describe the service in cluster blue',
        async () =>
          ecs.calls
            .slice(seen)
            .some(
              (c) => c.command === 'DescribeServices' && (c.input as { cluster?: string }).cluster === 'blue',
            ),
        WAIT,
      );
      const operations = (await executionsOf(client, tenant.id)).map((e) => e.operation);
      assert.deepEqual(operations, ['provision'], 'no drift repair');
      assert.equal((await client.getTenant(tenant.id)).status.phase, 'ready');
    });

    test('PATCH env and desiredCount → generation 2 ready on the same service with a new task definition revision', async () => {
      await client.patchTenant(tenant.id, { spec: { config: { env: { MODE: 'two' }, desiredCount: 3 } } });
      const ready = await waitForPhase(client, tenant.id, 'ready', {
        ...WAIT,
        generation: 2,
        failOn: ['failed'],
      });
      assert.equal(ready.status.observedGeneration, 2);

      const live = ecs.liveServicesOf(tenant.id);
      assert.equal(live.length, 1, 'exactly one service for the tenant');
      const service = ecs.service('blue', 'lessor-shop');
      assert.equal(service?.serviceArn, live[0]?.serviceArn);
      assert.match(service?.taskDefinition ?? '', /:task-definition\/lessor-shop:2$/);
      assert.equal(service?.desiredCount, 3);
      assert.equal(service?.runningCount, 3);
      const revision = ecs.taskDefinitions.resolve(service?.taskDefinition ?? '');
      assert.deepEqual(revision?.containerDefinitions?.[0]?.environment, [{ name: 'MODE', value: 'two' }]);
      assert.equal(createCalls('lessor-shop'), 1, 'updated in place, never created again');

      assert.equal(ready.status.resources.taskDefinitionArn, service?.taskDefinition);
      assert.equal(ready.status.resources.desiredCount, '3');
      const operations = (await executionsOf(client, tenant.id)).map((e) => e.operation).sort();
      assert.deepEqual(operations, ['provision', 'update']);
    });

    test('DELETE → archived; the service is INACTIVE in ECS', async () => {
      await client.deleteTenant(tenant.id);
      await waitForPhase(client, tenant.id, 'archived', { ...WAIT, failOn: ['failed'] });
      assert.deepEqual(ecs.liveServicesOf(tenant.id), []);
      assert.equal(ecs.service('blue', 'lessor-shop')?.status, 'INACTIVE');
      assert.equal(ecs.callsOf('DeleteService').length, 1);
    });
  });

  test('suspend → desiredCount 0, logs still readable → resume to the spec count on the same service', async () => {
    const config = {
      desiredCount: 2,
      executionRoleArn: 'arn:aws:iam::123456789012:role/ecs-task-execution',
      logs: { group: '/lessor/tenants' },
    };
    const created = await client.createTenant(ecsTenant('sleeper', config));
    const ready = await waitForPhase(client, created.id, 'ready', { ...WAIT, failOn: ['failed'] });
    const readLogs = async () => {
      let text = '';
      for await (const chunk of client.tenantLogs(created.id, { tail: 10 })) text += chunk;
      return text;
    };
    assert.match(await readLogs(), /listening on :80/, 'the tasks printed at start');

    ecs.inject(
      'UpdateService',
      new ECSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: metadata(400),
        message: 'Rate exceeded',
      }),
    );
    await client.patchTenant(created.id, { spec: { suspended: true } });
    const suspended = await waitForPhase(client, created.id, 'suspended', { ...WAIT, failOn: ['failed'] });
    const service = ecs.service('tenants', 'lessor-sleeper');
    assert.deepEqual([service?.status, service?.desiredCount, service?.runningCount], ['ACTIVE', 0, 0]);
    assert.equal(suspended.status.resources.serviceArn, ready.status.resources.serviceArn);
    assert.equal(
      suspended.status.conditions.find((c) => c.type === 'Ready')?.reason,
      'Suspended',
      'Ready=False, Suspended',
    );
    const suspend = await onlyExecution(client, created.id, 'suspend');
    assert.equal(suspend.attempt, 2, 'the throttled UpdateService was retried');
    assert.match(await readLogs(), /listening on :80/, "a suspended tenant's output stays readable");

    await client.patchTenant(created.id, { spec: { suspended: false } });
    const resumed = await waitForPhase(client, created.id, 'ready', { ...WAIT, failOn: ['failed'] });
    const back = ecs.service('tenants', 'lessor-sleeper');
    assert.deepEqual([back?.desiredCount, back?.runningCount], [2, 2]);
    assert.equal(resumed.status.resources.taskDefinitionArn, ready.status.resources.taskDefinitionArn);
    assert.equal(createCalls('lessor-sleeper'), 1, 'never a second service');
    const operations = (await executionsOf(client, created.id)).map((e) => e.operation).sort();
    assert.deepEqual(operations, ['provision', 'resume', 'suspend']);
  });

  test('a throttled CreateService is retried under the same execution; the tenant gets ready', async () => {
    ecs.inject(
      'CreateService',
      new ECSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: metadata(400),
        message: 'Rate exceeded',
      }),
    );
    const created = await client.createTenant(ecsTenant('throttled'));
    const ready = await waitForPhase(client, created.id, 'ready', { ...WAIT, failOn: ['failed'] });

    const execution = await onlyExecution(client, created.id, 'provision');
    assert.equal(historyPath(execution), expectedPath(1, 'succeeded'));
    assert.equal(execution.history.find((h) => h.status === 'failed')?.details.code, 'RATE_LIMITED');
    assert.equal(createCalls('lessor-throttled'), 2, 'the throttled call and its retry');
    assert.equal(ecs.liveServicesOf(ready.id).length, 1);
    assert.ok(
      ecs.service('tenants', 'lessor-throttled'),
      'in the default cluster from the provider defaults',
    );
    const warned = logRecords().find((r) => r.tenantId === created.id && r.code === 'RATE_LIMITED');
    assert.equal(warned?.level, 40, 'a retriable failure is logged at warn');
  });

  const nonRetriable: readonly {
    reason: string;
    name: string;
    command: string;
    error: Error;
    code: ComputeErrorCode;
    classification: string;
  }[] = [
    {
      reason: 'ECS rejects a parameter (InvalidParameterException on CreateService)',
      name: 'rejected',
      command: 'CreateService',
      error: new InvalidParameterException({ message: 'Invalid subnet.', $metadata: metadata(400) }),
      code: 'INVALID_CONFIG',
      classification: 'non_retriable',
    },
    {
      reason: 'the principal may not register task definitions (AccessDeniedException)',
      name: 'denied',
      command: 'RegisterTaskDefinition',
      error: new AccessDeniedException({ message: 'not authorized', $metadata: metadata(400) }),
      code: 'PERMISSION_DENIED',
      classification: 'manual_intervention',
    },
  ];
  for (const { reason, name, command, error, code, classification } of nonRetriable) {
    test(`${reason} → failed with ${code}, not retried`, async () => {
      ecs.inject(command, error);
      const created = await client.createTenant(ecsTenant(name));
      const failed = await waitForPhase(client, created.id, 'failed', { ...WAIT, failOn: ['ready'] });

      assert.equal(failed.status.lastError?.code, code);
      assert.equal(failed.status.lastError?.classification, classification);
      const execution = await onlyExecution(client, created.id, 'provision');
      assert.equal(execution.status, 'failed');
      assert.equal(execution.error?.code, code);
      assert.equal(historyPath(execution), expectedPath(1, 'failed'));
      assert.deepEqual(ecs.liveServicesOf(created.id), [], 'no service was made');
      const logged = logRecords().find((r) => r.tenantId === created.id && r.code === code);
      assert.equal(logged?.level, 50, 'logged at error with the tenant id and code');
      assert.equal(logged?.executionId, execution.executionId);
    });
  }
});
