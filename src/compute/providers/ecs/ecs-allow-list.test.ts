/**
 * The ecs provider's allow-lists: a tenant names only roles, secrets, task definitions, target
 * groups, clusters, regions, subnets and security groups that the admin allowed or that are the
 * provider's own defaults — checked where the API validates (the registry) and again before the
 * provider touches AWS credentials.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ComputeError } from '../../../domain/compute-error.js';
import { ValidationError, type FieldProblem } from '../../../domain/errors.js';
import { silentLogger } from '../../../domain/logger.js';
import { testHasher } from '../../../domain/testing/test-hasher.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { createProviderRegistry } from '../../provider-registry.js';
import { compilePattern, parseAllowLists } from './ecs-allow-list.js';
import { FakeEcsBackend } from './testing/fake-ecs-backend.js';
import { makeEcsProvider, newTenant, request, signal, TEST_OPTIONS } from './testing/ecs-fixtures.js';

const ACCOUNT = '123456789012';
const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const secret = (name: string) => `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${name}`;
const targetGroup = (name: string) =>
  `arn:aws:elasticloadbalancing:eu-west-1:${ACCOUNT}:targetgroup/${name}/0123`;

const ALLOWED = {
  roleArns: [role('app-*')],
  assumeRoleArns: [role('lessor-tenant-*', '210987654321')],
  secretArns: [secret('acme-*')],
  taskDefinitionArns: ['shop:*', '*:task-definition/shop:*'],
  targetGroupArns: [targetGroup('tenants-*')],
  clusters: ['blue'],
  regions: ['us-east-2'],
  subnets: ['subnet-0b*'],
  securityGroups: [],
  logGroups: ['/tenants/*'],
};

const DEFAULTS: JsonObject = {
  cluster: 'tenants',
  executionRoleArn: role('lessor-exec'),
  subnets: ['subnet-0a1b2c3d4e5f60718'],
  securityGroups: ['sg-0123456789abcdef0'],
  secrets: { SHARED: secret('shared-config') },
  cpu: 256,
  memory: 512,
};

const BASE: JsonObject = { image: 'public.ecr.aws/nginx/nginx:1.27', ports: [{ containerPort: 80 }] };

describe('ecs allow-lists at validation (the API path: defaults merged, then checked)', async () => {
  const provider = await makeEcsProvider({ allowed: ALLOWED }, DEFAULTS);
  const registry = createProviderRegistry([
    {
      provider,
      settings: {
        options: {},
        defaults: DEFAULTS,
        timeoutMs: 1000,
        dataDir: '',
        logger: silentLogger,
        hasher: testHasher,
      },
    },
  ]);
  after(() => registry.close());
  const problemPaths = (config: JsonObject, base: JsonObject): string[] => {
    try {
      registry.effectiveConfig('ecs', { ...base, ...config });
      return [];
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      return error.problems.map((p) => p.path);
    }
  };

  const cases: { reason: string; config: JsonObject; paths: string[]; base?: JsonObject }[] = [
    { reason: 'the provider defaults alone are fine', config: {}, paths: [] },
    { reason: 'an allowed cluster', config: { cluster: 'blue' }, paths: [] },
    { reason: 'another cluster', config: { cluster: 'red' }, paths: ['spec.config.cluster'] },
    {
      reason: "the built-in 'default' cluster is not the provider's default when defaults name one",
      config: { cluster: 'default' },
      paths: ['spec.config.cluster'],
    },
    { reason: 'the region option is the default region', config: { region: 'eu-west-1' }, paths: [] },
    { reason: 'an allowed region', config: { region: 'us-east-2' }, paths: [] },
    { reason: 'another region', config: { region: 'ap-south-1' }, paths: ['spec.config.region'] },
    { reason: 'a task role matching a pattern', config: { taskRoleArn: role('app-web') }, paths: [] },
    {
      reason: 'a role of the same account outside the pattern',
      config: { taskRoleArn: role('admin'), executionRoleArn: role('app-x', '999999999999') },
      paths: ['spec.config.executionRoleArn', 'spec.config.taskRoleArn'],
    },
    {
      reason: 'patterns are anchored at both ends',
      config: { taskRoleArn: `x${role('app-web')}` },
      paths: ['spec.config.taskRoleArn'],
    },
    {
      reason: 'a role to pass is not a role Lessor may assume',
      config: { assumeRole: { roleArn: role('app-web') } },
      paths: ['spec.config.assumeRole.roleArn'],
    },
    {
      reason: 'an allowed role to assume',
      config: { assumeRole: { roleArn: role('lessor-tenant-acme', '210987654321') } },
      paths: [],
    },
    {
      reason: "secrets: allowed by pattern, the default's own ARN, anything else refused",
      config: {
        secrets: { DB: secret('acme-db'), SHARED: secret('shared-config'), OTHER: secret('globex-db') },
      },
      paths: ['spec.config.secrets.OTHER'],
    },
    {
      reason: 'a target group outside the list',
      config: { loadBalancer: { targetGroupArn: targetGroup('admin'), containerPort: 80 } },
      paths: ['spec.config.loadBalancer.targetGroupArn'],
    },
    { reason: 'an allowed task definition', config: { taskDefinitionArn: 'shop:42' }, paths: [], base: {} },
    {
      reason: 'a task definition outside the list',
      config: { taskDefinitionArn: 'billing:7' },
      paths: ['spec.config.taskDefinitionArn'],
      base: {},
    },
    {
      reason: "a subnet and a security group of the tenant's choosing",
      config: {
        subnets: ['subnet-0b00000000000000', 'subnet-0c00000000000000'],
        securityGroups: ['sg-admin'],
      },
      paths: ['spec.config.subnets.1', 'spec.config.securityGroups.0'],
    },
    {
      reason: 'a log group by pattern, in an allowed region',
      config: { logs: { group: '/tenants/acme', region: 'us-east-2' } },
      paths: [],
    },
    {
      reason: 'a log group outside the list, in another region (Lessor reads them with its credentials)',
      config: { logs: { group: '/billing/audit', region: 'ap-south-1' } },
      paths: ['spec.config.logs.group', 'spec.config.logs.region'],
    },
  ];
  for (const { reason, config, paths, base = BASE } of cases) {
    it(reason, () => assert.deepEqual(problemPaths(config, base), paths));
  }

  it("a Lessor-registered tenant family is refused as a taskDefinitionArn, even when '*' allows all", async () => {
    const open = await makeEcsProvider({ allowed: { taskDefinitionArns: ['*'], subnets: ['*'] } });
    const arn = `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/lessor-globex:3`;
    const problems = open.validate({ taskDefinitionArn: arn, subnets: ['subnet-1'] });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['taskDefinitionArn'],
    );
    await open.close?.();
  });
});

describe('ecs allow-lists in the provider itself', () => {
  it('a refused role is never assumed and ECS is never called, for provision, describe and delete', async () => {
    const ecs = new FakeEcsBackend();
    const sts = mockClient(STSClient);
    try {
      const provider = await makeEcsProvider({ allowed: {} }, DEFAULTS);
      const config = {
        ...DEFAULTS,
        ...BASE,
        assumeRole: { roleArn: role('OrganizationAccountAccessRole', '210987654321') },
      };
      const tenant = newTenant();
      const calls = [
        provider.provision(request(tenant, config), signal()),
        provider.describe({ tenant, config }, signal()),
        provider.delete(request(tenant, config, 1, 'delete'), signal()),
      ];
      for (const call of calls) {
        await assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof ComputeError);
          assert.equal(error.code, 'INVALID_CONFIG');
          assert.match(error.message, /assumeRole\.roleArn/);
          return true;
        });
      }
      assert.equal(sts.commandCalls(AssumeRoleCommand).length, 0, 'no AssumeRole');
      assert.deepEqual(ecs.calls, [], 'no ECS call');
      await provider.close?.();
    } finally {
      sts.restore();
      ecs.restore();
    }
  });
});

describe('the allowed option', () => {
  it('names unknown lists and malformed patterns', () => {
    const problems: FieldProblem[] = [];
    parseAllowLists({ roleArn: ['x'], clusters: 'blue', regions: [''] }, problems);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['allowed.roleArn', 'allowed.clusters', 'allowed.regions'],
    );
  });

  it('`*` matches any run of characters, everything else literally', () => {
    const pattern = compilePattern('arn:aws:iam::1:role/app-*');
    assert.ok(pattern.test('arn:aws:iam::1:role/app-web'));
    assert.ok(pattern.test('arn:aws:iam::1:role/app-team/web'));
    assert.ok(!pattern.test('arn:aws:iam::1:role/appx'));
    assert.ok(!compilePattern('a.c').test('abc'), 'a dot is a dot');
  });

  it('nothing is allowed by default', () => {
    const problems: FieldProblem[] = [];
    assert.deepEqual(Object.values(parseAllowLists(undefined, problems)).flat(), []);
    assert.equal(TEST_OPTIONS.allowed.clusters?.[0], '*', 'only the behaviour tests open everything');
  });
});
