import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceNotFoundException } from '@aws-sdk/client-ecs';
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

describe('ecs provider: failures', () => {
  const rig = fakeEcsRig({ provider: { waitTimeoutMs: 50 } });

  it('fewer tasks running than desired when the wait ends → PARTIAL_FAILURE with the resources', async () => {
    rig.ecs.capacity = 1;
    const error = await failure(
      rig.provider.provision(request(newTenant('part'), { ...VALID_CONFIG, desiredCount: 2 }), signal()),
    );
    assert.equal(error.code, 'PARTIAL_FAILURE');
    assert.equal(error.classification, 'retriable');
    assert.deepEqual(error.partial?.succeeded, ['service']);
    assert.deepEqual(error.partial?.failed, ['tasks: 1/2 running']);
    assert.equal(error.partial?.resources?.serviceName, 'lessor-part');
    assert.equal(error.partial?.resources?.runningCount, '1');
  });

  it('a FAILED rollout (circuit breaker) → HEALTH_CHECK_FAILED, resources kept', async () => {
    rig.ecs.failRollouts = true;
    const error = await failure(rig.provider.provision(request(newTenant('broken'), VALID_CONFIG), signal()));
    assert.equal(error.code, 'HEALTH_CHECK_FAILED');
    assert.match(error.message, /circuit breaker/);
    assert.equal(error.partial?.resources?.serviceName, 'lessor-broken');
  });

  it('an abort while waiting → PROVIDER_TIMEOUT', async () => {
    const slow = await makeEcsProvider({ pollIntervalMs: 60_000, waitTimeoutMs: 120_000 });
    const controller = new AbortController();
    const pending = slow.provision(request(newTenant(), VALID_CONFIG), controller.signal);
    setTimeout(() => controller.abort(), 20);
    const error = await failure(pending);
    assert.equal(error.code, 'PROVIDER_TIMEOUT');
    await slow.close?.();
  });

  it("another tenant's service with the same name is never touched → CONFLICT", async () => {
    const mine = newTenant('shared');
    const other = newTenant('shared');
    await rig.provider.provision(request(other, VALID_CONFIG), signal());
    const before = rig.ecs.calls.length;
    for (const op of ['provision', 'update', 'delete'] as const) {
      const error = await failure(rig.provider[op](request(mine, VALID_CONFIG, 1, op), signal()));
      assert.equal(error.code, 'CONFLICT');
      assert.equal(error.classification, 'manual_intervention');
    }
    const mutations = rig.ecs.calls.slice(before).filter((c) => !c.command.startsWith('Describe'));
    assert.deepEqual(mutations, []);
    const observed = await rig.provider.describe({ tenant: mine, config: VALID_CONFIG }, signal());
    assert.equal(observed.exists, false);
    assert.match(String(observed.details?.conflict), new RegExp(other.id));
  });

  it('a service without Lessor tags is not adopted', async () => {
    const tenant = newTenant('handmade');
    rig.ecs.putService('default', {
      serviceName: 'lessor-handmade',
      status: 'ACTIVE',
      tags: [{ key: 'team', value: 'x' }],
    });
    const error = await failure(rig.provider.provision(request(tenant, VALID_CONFIG), signal()));
    assert.equal(error.code, 'CONFLICT');
    assert.match(error.message, /not managed by Lessor/);
  });

  it('a DRAINING service of the tenant → retriable CONFLICT', async () => {
    const tenant = newTenant('draining');
    rig.ecs.drainSteps = 1000;
    rig.ecs.putService('default', {
      serviceName: 'lessor-draining',
      serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/default/lessor-draining',
      status: 'DRAINING',
      tags: [{ key: TAG.tenantId, value: tenant.id }],
    });
    const error = await failure(rig.provider.provision(request(tenant, VALID_CONFIG), signal()));
    assert.equal(error.code, 'CONFLICT');
    assert.equal(error.classification, 'retriable');
  });

  it('a launch type change cannot be made in place → INVALID_CONFIG', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const config = { ...VALID_CONFIG, launchType: 'EC2' };
    const error = await failure(rig.provider.update(request(tenant, config, 2, 'update'), signal()));
    assert.equal(error.code, 'INVALID_CONFIG');
  });

  it('the service vanishing between observe and UpdateService → NOT_FOUND', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    rig.ecs.inject(
      'UpdateService',
      new ServiceNotFoundException({ message: 'Service not found.', $metadata: metadata(400) }),
    );
    const error = await failure(
      rig.provider.update(request(tenant, { ...VALID_CONFIG, desiredCount: 2 }, 2), signal()),
    );
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.classification, 'non_retriable');
  });

  it('a missing cluster on provision → NOT_FOUND; describe reports nothing', async () => {
    const error = await failure(
      rig.provider.provision(request(newTenant(), { ...VALID_CONFIG, cluster: 'nope' }), signal()),
    );
    assert.equal(error.code, 'NOT_FOUND');
    const observed = await rig.provider.describe(
      { tenant: newTenant(), config: { ...VALID_CONFIG, cluster: 'nope' } },
      signal(),
    );
    assert.equal(observed.exists, false);
  });

  it('a rejected task definition (ClientException) → INVALID_CONFIG, no service created', async () => {
    const { cpu: _cpu, memory: _memory, ...config } = VALID_CONFIG;
    const error = await failure(rig.provider.provision(request(newTenant(), config), signal()));
    assert.equal(error.code, 'INVALID_CONFIG');
    assert.equal(rig.ecs.callsOf('CreateService').length, 0);
  });
});
