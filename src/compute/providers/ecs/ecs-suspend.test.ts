import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedException,
  ECSServiceException,
  ServiceNotFoundException,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { TAG } from './ecs-tags.js';
import { metadata } from './testing/fake-task-definitions.js';
import {
  failure,
  fakeEcsRig,
  makeEcsProvider,
  newTenant,
  request,
  signal,
  VALID_CONFIG,
} from './testing/ecs-fixtures.js';

const TWO = { ...VALID_CONFIG, desiredCount: 2 };

describe('ecs provider: suspend and resume', () => {
  const rig = fakeEcsRig();

  it('suspend scales to 0 once and waits until no task runs; the service and its task definition stay', async () => {
    const tenant = newTenant('sleepy');
    const made = await rig.provider.provision(request(tenant, TWO), signal());
    const suspended = await rig.provider.suspend!(request(tenant, TWO, 2, 'suspend'), signal());
    assert.deepEqual(rig.ecs.callsOf('UpdateService'), [
      { cluster: 'default', service: 'lessor-sleepy', desiredCount: 0 },
    ]);
    assert.equal(suspended.resources.runningCount, '0', 'returns only once no task runs');
    assert.equal(suspended.resources.desiredCount, '0');
    assert.equal(suspended.resources.serviceArn, made.resources.serviceArn);
    assert.equal(suspended.resources.taskDefinitionArn, made.resources.taskDefinitionArn);
    assert.deepEqual(suspended.endpoints, []);

    await rig.provider.suspend!(request(tenant, TWO, 2, 'suspend'), signal());
    assert.equal(rig.ecs.callsOf('UpdateService').length, 1, 'a suspended service is not scaled again');
    const observed = await rig.provider.describe({ tenant, config: TWO }, signal());
    assert.deepEqual([observed.exists, observed.running], [true, false]);
  });

  it("resume scales back to the config's count and waits for a steady deployment, on the same task definition", async () => {
    const tenant = newTenant('wakey');
    const made = await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    await rig.provider.suspend!(request(tenant, VALID_CONFIG, 2, 'suspend'), signal());
    const registered = rig.ecs.callsOf('RegisterTaskDefinition').length;
    const resumed = await rig.provider.resume!(request(tenant, TWO, 3, 'resume'), signal());
    const scaled = rig.ecs.callsOf('UpdateService').at(-1) as UpdateServiceCommandInput;
    assert.deepEqual(scaled, { cluster: 'default', service: 'lessor-wakey', desiredCount: 2 });
    assert.equal(resumed.resources.runningCount, '2', 'returns once every task runs');
    assert.equal(resumed.resources.taskDefinitionArn, made.resources.taskDefinitionArn);
    assert.equal(rig.ecs.callsOf('RegisterTaskDefinition').length, registered, 'no new revision');
    assert.equal(rig.ecs.callsOf('CreateService').length, 1, 'no new service');
    const tags = new Map(
      (rig.ecs.service('default', 'lessor-wakey')?.tags ?? []).map((t) => [t.key, t.value]),
    );
    assert.equal(tags.get(TAG.generation), '1', 'resume keeps the service as it was made');
  });

  it('tasks still stopping when the wait ends → PROVIDER_TIMEOUT with the service in partial', async () => {
    const impatient = await makeEcsProvider({ waitTimeoutMs: 0 });
    const tenant = newTenant('slowstop');
    await rig.provider.provision(request(tenant, TWO), signal());
    const error = await failure(impatient.suspend!(request(tenant, TWO, 2, 'suspend'), signal()));
    assert.equal(error.code, 'PROVIDER_TIMEOUT');
    assert.equal(error.classification, 'retriable');
    assert.deepEqual(error.partial?.succeeded, ['scaledToZero']);
    assert.equal(error.partial?.resources?.serviceName, 'lessor-slowstop');
    await impatient.close?.();
    const retried = await rig.provider.suspend!(request(tenant, TWO, 2, 'suspend'), signal());
    assert.equal(retried.resources.runningCount, '0', 'the retry waits for the rest');
    assert.equal(rig.ecs.callsOf('UpdateService').length, 1);
  });

  it('a resume whose tasks cannot all start (cluster short of capacity) → retriable PARTIAL_FAILURE', async () => {
    const impatient = await makeEcsProvider({ waitTimeoutMs: 50 });
    const tenant = newTenant('crowded');
    await rig.provider.provision(request(tenant, TWO), signal());
    await rig.provider.suspend!(request(tenant, TWO, 2, 'suspend'), signal());
    for (const capacity of [0, 1]) {
      rig.ecs.capacity = capacity;
      const error = await failure(impatient.resume!(request(tenant, TWO, 3, 'resume'), signal()));
      assert.equal(error.code, 'PARTIAL_FAILURE');
      assert.equal(error.classification, 'retriable');
      assert.deepEqual(error.partial?.failed, [`tasks: ${capacity}/2 running`]);
      assert.equal(error.partial?.resources?.desiredCount, '2', 'scaled back up all the same');
    }
    await impatient.close?.();
  });

  const awsErrors = [
    {
      reason: 'throttled: retriable, with the configured back-off',
      // The ECS client has no class for it: the SDK raises its base exception with the code as name.
      error: new ECSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: metadata(400),
      }),
      code: 'RATE_LIMITED',
      classification: 'retriable',
    },
    {
      reason: 'access denied: a human must grant ecs:UpdateService',
      error: new AccessDeniedException({
        message: 'User is not authorized to perform: ecs:UpdateService',
        $metadata: metadata(400),
      }),
      code: 'PERMISSION_DENIED',
      classification: 'manual_intervention',
    },
    {
      reason: 'the service vanished between observe and act',
      error: new ServiceNotFoundException({ message: 'Service not found.', $metadata: metadata(400) }),
      code: 'NOT_FOUND',
      classification: 'non_retriable',
    },
  ] as const;

  for (const { reason, error, code, classification } of awsErrors) {
    for (const operation of ['suspend', 'resume'] as const) {
      it(`${operation}: UpdateService fails (${reason}) → ${code}; a retry completes it`, async () => {
        const tenant = newTenant();
        await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
        if (operation === 'resume') await rig.provider.suspend!(request(tenant, VALID_CONFIG, 2), signal());
        rig.ecs.inject('UpdateService', error);
        const failed = await failure(
          rig.provider[operation]!(request(tenant, VALID_CONFIG, 3, operation), signal()),
        );
        assert.equal(failed.code, code, reason);
        assert.equal(failed.classification, classification, reason);
        if (code === 'RATE_LIMITED') assert.equal(failed.retryAfterMs, 5000, reason);
        const done = await rig.provider[operation]!(request(tenant, VALID_CONFIG, 3, operation), signal());
        assert.equal(done.resources.runningCount, operation === 'suspend' ? '0' : '1', reason);
      });
    }
  }

  it("another tenant's service, or one being deleted, is never scaled", async () => {
    const mine = newTenant('same');
    await rig.provider.provision(request(newTenant('same'), VALID_CONFIG), signal());
    for (const operation of ['suspend', 'resume'] as const) {
      const error = await failure(
        rig.provider[operation]!(request(mine, VALID_CONFIG, 1, operation), signal()),
      );
      assert.equal(error.code, 'CONFLICT', operation);
      assert.equal(error.classification, 'manual_intervention', operation);
    }
    const draining = newTenant('leaving');
    rig.ecs.drainSteps = 1000;
    rig.ecs.putService('default', {
      serviceName: 'lessor-leaving',
      serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/default/lessor-leaving',
      status: 'DRAINING',
      tags: [{ key: TAG.tenantId, value: draining.id }],
    });
    for (const operation of ['suspend', 'resume'] as const) {
      const error = await failure(
        rig.provider[operation]!(request(draining, VALID_CONFIG, 1, operation), signal()),
      );
      assert.equal(error.code, 'CONFLICT', operation);
      assert.equal(error.classification, 'retriable', operation);
    }
    assert.deepEqual(rig.ecs.callsOf('UpdateService'), [], 'nothing was scaled');
  });

  it('suspend in a missing cluster succeeds (nothing runs); resume there is NOT_FOUND', async () => {
    const config = { ...VALID_CONFIG, cluster: 'gone' };
    const tenant = newTenant();
    assert.deepEqual(await rig.provider.suspend!(request(tenant, config), signal()), {
      resources: {},
      endpoints: [],
    });
    const error = await failure(rig.provider.resume!(request(tenant, config), signal()));
    assert.equal(error.code, 'NOT_FOUND');
  });
});
