import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ECSServiceException,
  type CreateServiceCommandInput,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { fromAwsTags, TAG } from './ecs-tags.js';
import {
  fakeEcsRig,
  newTenant,
  request,
  signal,
  UPDATED_CONFIG,
  VALID_CONFIG,
} from './testing/ecs-fixtures.js';

describe('ecs provider: lifecycle', () => {
  const rig = fakeEcsRig();

  it('provision registers a task definition, creates a tagged service and waits for a steady deployment', async () => {
    const tenant = newTenant('acme');
    const result = await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    assert.equal(result.resources.serviceName, 'lessor-acme');
    assert.equal(
      result.resources.serviceArn,
      'arn:aws:ecs:eu-west-1:123456789012:service/default/lessor-acme',
    );
    assert.match(result.resources.taskDefinitionArn ?? '', /task-definition\/lessor-acme:1$/);
    assert.equal(result.resources.runningCount, '1');
    assert.equal(result.resources.desiredCount, '1');
    assert.deepEqual(result.endpoints, []);
    const create = rig.ecs.callsOf('CreateService')[0] as CreateServiceCommandInput;
    assert.ok((create.clientToken ?? '').length > 0 && (create.clientToken ?? '').length <= 36);
    const tags = fromAwsTags(create.tags);
    assert.equal(tags[TAG.tenantId], tenant.id);
    assert.equal(tags[TAG.tenantName], 'acme');
    assert.equal(tags[TAG.generation], '1');
    assert.equal(tags[TAG.managed], 'true');
    assert.equal(tags.team, 'platform');
    assert.ok(tags[TAG.executionId] && tags[TAG.configHash]);
    assert.equal(create.networkConfiguration?.awsvpcConfiguration?.assignPublicIp, 'DISABLED');
    assert.ok(rig.ecs.callsOf('DescribeServices').length >= 2, 'polled until COMPLETED');
  });

  it('provision twice makes nothing new (observe before create, reuse the task definition)', async () => {
    const tenant = newTenant();
    const first = await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const second = await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    assert.deepEqual(second.resources, first.resources);
    assert.equal(rig.ecs.callsOf('CreateService').length, 1);
    assert.equal(rig.ecs.callsOf('RegisterTaskDefinition').length, 1);
    assert.equal(rig.ecs.callsOf('UpdateService').length, 0);
  });

  it('a retry after a failed wait finds the service the first attempt created', async () => {
    const tenant = newTenant();
    const throttled = new ECSServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });
    rig.ecs.inject('DescribeServices', null, throttled); // the observe passes, the wait after CreateService fails
    await assert.rejects(rig.provider.provision(request(tenant, VALID_CONFIG), signal()), {
      code: 'RATE_LIMITED',
    });
    assert.equal(rig.ecs.callsOf('CreateService').length, 1);
    const result = await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    assert.equal(result.resources.runningCount, '1');
    assert.equal(rig.ecs.callsOf('CreateService').length, 1);
    assert.equal(rig.ecs.callsOf('RegisterTaskDefinition').length, 1);
  });

  it('update of desiredCount only sends desiredCount and registers nothing', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const result = await rig.provider.update(
      request(tenant, { ...VALID_CONFIG, desiredCount: 3 }, 2, 'update'),
      signal(),
    );
    assert.deepEqual(result.changes, ['desiredCount']);
    const update = rig.ecs.callsOf('UpdateService')[0] as UpdateServiceCommandInput;
    assert.deepEqual(update, { cluster: 'default', service: `lessor-${tenant.name}`, desiredCount: 3 });
    assert.equal(rig.ecs.callsOf('RegisterTaskDefinition').length, 1);
    assert.equal(result.resources.runningCount, '3');
    assert.equal(fromAwsTags(rig.ecs.service('default', `lessor-${tenant.name}`)?.tags)[TAG.generation], '2');
  });

  it('update of the image registers a new revision and rolls it out', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const result = await rig.provider.update(request(tenant, UPDATED_CONFIG, 2, 'update'), signal());
    assert.deepEqual(result.changes, ['taskDefinition', 'desiredCount']);
    assert.match(result.resources.taskDefinitionArn ?? '', /:2$/);
    assert.equal(result.resources.runningCount, '2');
    const update = rig.ecs.callsOf('UpdateService')[0] as UpdateServiceCommandInput;
    assert.deepEqual(Object.keys(update).sort(), ['cluster', 'desiredCount', 'service', 'taskDefinition']);
  });

  it('update without changes calls no UpdateService, only retags the generation', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const result = await rig.provider.update(request(tenant, VALID_CONFIG, 2, 'update'), signal());
    assert.deepEqual(result.changes, []);
    assert.equal(rig.ecs.callsOf('UpdateService').length, 0);
    assert.equal(rig.ecs.callsOf('TagResource').length, 1);
  });

  it('update of the network and the user tags', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const config = {
      ...VALID_CONFIG,
      subnets: ['subnet-1', 'subnet-2'],
      assignPublicIp: true,
      tags: { team: 'web' },
    };
    const result = await rig.provider.update(request(tenant, config, 2, 'update'), signal());
    assert.deepEqual(result.changes, ['networkConfiguration', 'tags']);
    const update = rig.ecs.callsOf('UpdateService')[0] as UpdateServiceCommandInput;
    assert.deepEqual(update.networkConfiguration?.awsvpcConfiguration?.subnets, ['subnet-1', 'subnet-2']);
    assert.equal(update.taskDefinition, undefined);
  });

  it('a given taskDefinitionArn is used as is', async () => {
    const registered = rig.ecs.taskDefinitions.register({
      family: 'my-app',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'web', image: 'nginx' }],
    });
    const arn = registered.taskDefinition.taskDefinitionArn ?? '';
    const config = { taskDefinitionArn: arn, subnets: ['subnet-1'], desiredCount: 2 };
    const result = await rig.provider.provision(request(newTenant(), config), signal());
    assert.equal(result.resources.taskDefinitionArn, arn);
    assert.equal(rig.ecs.callsOf('RegisterTaskDefinition').length, 0);
  });

  it('delete scales to 0, deletes with force and waits until INACTIVE; again is a no-op', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    const result = await rig.provider.delete(request(tenant, VALID_CONFIG, 1, 'delete'), signal());
    assert.deepEqual(result, { resources: {}, endpoints: [] });
    assert.deepEqual(rig.ecs.callsOf('UpdateService'), [
      { cluster: 'default', service: `lessor-${tenant.name}`, desiredCount: 0 },
    ]);
    assert.deepEqual(rig.ecs.callsOf('DeleteService'), [
      { cluster: 'default', service: `lessor-${tenant.name}`, force: true },
    ]);
    assert.equal(rig.ecs.service('default', `lessor-${tenant.name}`)?.status, 'INACTIVE');
    await rig.provider.delete(request(tenant, VALID_CONFIG, 1, 'delete'), signal());
    assert.equal(rig.ecs.callsOf('DeleteService').length, 1);
    assert.equal((await rig.provider.describe({ tenant, config: VALID_CONFIG }, signal())).exists, false);
  });

  it('delete of a never-provisioned tenant, or in a missing cluster, succeeds', async () => {
    await rig.provider.delete(request(newTenant(), VALID_CONFIG, 1, 'delete'), signal());
    await rig.provider.delete(
      request(newTenant(), { ...VALID_CONFIG, cluster: 'gone' }, 1, 'delete'),
      signal(),
    );
    assert.equal(rig.ecs.callsOf('DeleteService').length, 0);
  });

  it('provision after delete creates a new service in place of the INACTIVE one', async () => {
    const tenant = newTenant();
    await rig.provider.provision(request(tenant, VALID_CONFIG), signal());
    await rig.provider.delete(request(tenant, VALID_CONFIG, 2, 'delete'), signal());
    const result = await rig.provider.provision(request(tenant, VALID_CONFIG, 3), signal());
    assert.equal(rig.ecs.callsOf('CreateService').length, 2);
    assert.equal(result.resources.runningCount, '1');
    assert.equal((await rig.provider.describe({ tenant, config: VALID_CONFIG }, signal())).generation, 3);
  });
});
