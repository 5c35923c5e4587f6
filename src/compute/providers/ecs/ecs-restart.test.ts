import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { FakeEcsBackend } from './testing/fake-ecs-backend.js';
import { makeEcsProvider, newTenant, request, signal, VALID_CONFIG } from './testing/ecs-fixtures.js';

describe('ecs provider: a restart of Lessor (a fresh provider instance)', () => {
  let ecs: FakeEcsBackend;
  beforeEach(() => {
    ecs = new FakeEcsBackend({ clusters: ['default', 'tenants'] });
  });
  afterEach(() => ecs.restore());

  it('describe, update and delete find the service by name and tags, not by memory', async () => {
    const tenant = newTenant('durable');
    const config = { ...VALID_CONFIG, cluster: 'tenants', endpointUrl: 'https://durable.example.com/' };
    const before = await makeEcsProvider();
    const provisioned = await before.provision(request(tenant, config), signal());
    assert.deepEqual(provisioned.endpoints, [{ name: 'default', url: 'https://durable.example.com/' }]);
    await before.close?.();

    const after = await makeEcsProvider();
    const observed = await after.describe({ tenant, config }, signal());
    assert.equal(observed.exists, true);
    assert.equal(observed.running, true);
    assert.equal(observed.healthy, true);
    assert.equal(observed.generation, 1);
    assert.deepEqual(observed.resources, provisioned.resources);
    assert.deepEqual(observed.endpoints, provisioned.endpoints);

    const updated = await after.update(
      request(tenant, { ...config, desiredCount: 2 }, 2, 'update'),
      signal(),
    );
    assert.deepEqual(updated.changes, ['desiredCount']);
    assert.equal(ecs.callsOf('CreateService').length, 1);
    assert.equal((await after.describe({ tenant, config }, signal())).generation, 2);

    await after.delete(request(tenant, config, 3, 'delete'), signal());
    assert.equal(ecs.service('tenants', 'lessor-durable')?.status, 'INACTIVE');
    assert.equal((await after.describe({ tenant, config }, signal())).exists, false);
    await after.close?.();
  });

  it("describe looks in the tenant's own cluster and region, not the provider's", async () => {
    const provider = await makeEcsProvider();
    const tenant = newTenant('elsewhere');
    const config = { ...VALID_CONFIG, cluster: 'tenants', region: 'us-east-2' };
    const made = await provider.provision(request(tenant, config), signal());
    ecs.calls.length = 0;

    const observed = await provider.describe({ tenant, config }, signal());
    assert.equal(observed.exists, true);
    assert.equal(observed.healthy, true);
    assert.deepEqual(observed.resources, made.resources);
    assert.deepEqual(
      ecs.calls.map((c) => [c.command, (c.input as { cluster?: string }).cluster]),
      [['DescribeServices', 'tenants']],
    );
    const client = ecs.mock.call(ecs.mock.calls().length - 1).thisValue as ECSClient;
    assert.equal(await client.config.region(), 'us-east-2');
    const inDefaultCluster = await provider.describe({ tenant, config: VALID_CONFIG }, signal());
    assert.equal(inDefaultCluster.exists, false, 'the default cluster holds no service of the tenant');
    await provider.close?.();
  });

  it('describe of a tenant without a service, and while its deployment is still rolling out', async () => {
    const provider = await makeEcsProvider();
    const tenant = newTenant();
    assert.deepEqual(await provider.describe({ tenant, config: VALID_CONFIG }, signal()), {
      exists: false,
      running: false,
      healthy: false,
      generation: null,
      resources: {},
      endpoints: [],
    });
    await provider.provision(request(tenant, VALID_CONFIG), signal());
    ecs.rolloutSteps = 100;
    await provider
      .update(request(tenant, { ...VALID_CONFIG, image: 'nginx:2' }, 2, 'update'), AbortSignal.timeout(50))
      .catch(() => undefined);
    const observed = await provider.describe({ tenant, config: VALID_CONFIG }, signal());
    assert.equal(observed.exists, true);
    assert.equal(observed.healthy, false);
    assert.equal(observed.details?.rollout, 'in-progress');
    await provider.close?.();
  });
});

describe('ecs provider: assumeRole', () => {
  it('calls ECS with the credentials STS AssumeRole returned', async () => {
    const ecs = new FakeEcsBackend();
    const sts = mockClient(STSClient);
    const expiration = new Date(Date.now() + 3_600_000);
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIAASSUMED',
        SecretAccessKey: 'assumed-secret',
        SessionToken: 'tok',
        Expiration: expiration,
      },
      AssumedRoleUser: {
        Arn: 'arn:aws:sts::210987654321:assumed-role/lessor-ecs/lessor',
        AssumedRoleId: 'AROA:lessor',
      },
      $metadata: { httpStatusCode: 200 },
    });
    try {
      const provider = await makeEcsProvider();
      const assumeRole = { roleArn: 'arn:aws:iam::210987654321:role/lessor-ecs', externalId: 'ext-123' };
      await provider.provision(request(newTenant(), { ...VALID_CONFIG, assumeRole }), signal());
      await provider.provision(request(newTenant(), { ...VALID_CONFIG, assumeRole }), signal());
      // The mock stubs `send`, so the SDK never signs: resolve the client's credentials as signing would.
      const client = ecs.mock.call(0).thisValue as ECSClient;
      const credentials = await client.config.credentials();
      await client.config.credentials();
      assert.equal(credentials.accessKeyId, 'ASIAASSUMED');
      assert.equal(credentials.sessionToken, 'tok');
      const calls = sts.commandCalls(AssumeRoleCommand);
      assert.equal(calls.length, 1, 'credentials are cached until shortly before they expire');
      assert.deepEqual(calls[0]?.args[0].input, {
        RoleArn: assumeRole.roleArn,
        RoleSessionName: 'lessor',
        ExternalId: 'ext-123',
      });
      assert.equal(ecs.mock.call(ecs.calls.length - 1).thisValue, client, 'one client per region and role');
      await provider.close?.();
    } finally {
      sts.restore();
      ecs.restore();
    }
  });
});
