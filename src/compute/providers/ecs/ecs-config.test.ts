import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import type { JsonObject } from '../../../domain/tenant.js';
import { compileConfigSchema } from '../../config-validator.js';
import { redactConfig } from '../../secrets.js';
import { ECS_CONFIG_SCHEMA } from './ecs-config-schema.js';
import { validateEcsConfig } from './ecs-config.js';
import { parseEcsOptions } from './ecs-options.js';
import { VALID_CONFIG } from './testing/ecs-fixtures.js';

const schema = compileConfigSchema(ECS_CONFIG_SCHEMA);
const arn = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/app:3';

describe('ecs config schema', () => {
  const cases: { reason: string; config: JsonObject; valid: boolean }[] = [
    { reason: 'image with task size and network', config: VALID_CONFIG, valid: true },
    {
      reason: 'a given task definition',
      config: { taskDefinitionArn: arn, subnets: ['subnet-1'] },
      valid: true,
    },
    { reason: 'neither image nor taskDefinitionArn', config: { subnets: ['subnet-1'] }, valid: false },
    {
      reason: 'both image and taskDefinitionArn',
      config: { ...VALID_CONFIG, taskDefinitionArn: arn },
      valid: false,
    },
    { reason: 'unknown field', config: { ...VALID_CONFIG, replicas: 2 }, valid: false },
    { reason: 'negative desiredCount', config: { ...VALID_CONFIG, desiredCount: -1 }, valid: false },
    { reason: 'unknown launch type', config: { ...VALID_CONFIG, launchType: 'EXTERNAL' }, valid: false },
    {
      reason: 'assumeRole without roleArn',
      config: { ...VALID_CONFIG, assumeRole: { externalId: 'abc' } },
      valid: false,
    },
    { reason: 'endpointUrl not a URI', config: { ...VALID_CONFIG, endpointUrl: 'not a url' }, valid: false },
    {
      reason: 'logs to a group',
      config: { ...VALID_CONFIG, logs: { group: '/lessor/tenants' } },
      valid: true,
    },
    {
      reason: 'logs without a group',
      config: { ...VALID_CONFIG, logs: { region: 'eu-west-1' } },
      valid: false,
    },
    {
      reason: 'a log group name with a space',
      config: { ...VALID_CONFIG, logs: { group: 'a b' } },
      valid: false,
    },
  ];
  for (const { reason, config, valid } of cases) {
    it(`${reason}: ${valid ? 'valid' : 'invalid'}`, () => {
      assert.equal(schema(config).length === 0, valid, JSON.stringify(schema(config)));
    });
  }

  it('marks secretEnv as secret and write-only', () => {
    const redacted = redactConfig(ECS_CONFIG_SCHEMA, VALID_CONFIG);
    assert.deepEqual(redacted.secretEnv, { API_TOKEN: '***' });
    assert.deepEqual(redacted.env, { MODE: 'prod' });
  });
});

describe('ecs config semantic checks', () => {
  const cases: { reason: string; config: JsonObject; paths: string[] }[] = [
    { reason: 'valid', config: VALID_CONFIG, paths: [] },
    { reason: 'neither source', config: { subnets: ['s'] }, paths: ['taskDefinitionArn'] },
    { reason: 'FARGATE without subnets', config: { ...VALID_CONFIG, subnets: [] }, paths: ['subnets'] },
    { reason: 'EC2 may go without subnets', config: { image: 'x', launchType: 'EC2' }, paths: [] },
    { reason: 'FARGATE without cpu', config: { ...VALID_CONFIG, cpu: null }, paths: ['cpu'] },
    { reason: 'FARGATE cpu not a task size', config: { ...VALID_CONFIG, cpu: 300 }, paths: ['cpu'] },
    { reason: 'FARGATE memory out of range', config: { ...VALID_CONFIG, memory: 4096 }, paths: ['memory'] },
    {
      reason: 'reserved tag prefix',
      config: { ...VALID_CONFIG, tags: { 'lessor:x': 'y' } },
      paths: ['tags.lessor:x'],
    },
    { reason: 'env twice', config: { ...VALID_CONFIG, secretEnv: { MODE: 'x' } }, paths: ['env'] },
    {
      reason: 'duplicate port',
      config: { ...VALID_CONFIG, ports: [{ containerPort: 80 }, { containerPort: 80 }] },
      paths: ['ports'],
    },
    {
      reason: 'secrets need an execution role',
      config: { ...VALID_CONFIG, secrets: { DB: 'arn:aws:ssm:x' } },
      paths: ['executionRoleArn'],
    },
    {
      reason: 'load balancer port not exposed',
      config: {
        ...VALID_CONFIG,
        loadBalancer: { targetGroupArn: 'arn:aws:elasticloadbalancing:x', containerPort: 8080 },
      },
      paths: ['loadBalancer.containerPort'],
    },
    {
      reason: 'logs on FARGATE need an execution role to write them',
      config: { ...VALID_CONFIG, logs: { group: 'g' } },
      paths: ['executionRoleArn'],
    },
    {
      reason: 'logs on EC2 may go without an execution role',
      config: { image: 'x', launchType: 'EC2', logs: { group: 'g' } },
      paths: [],
    },
    {
      reason: 'logs apply to an image, not to a given task definition',
      config: { taskDefinitionArn: arn, subnets: ['s'], logs: { group: 'g' } },
      paths: ['logs'],
    },
    {
      reason: 'load balancer on a given task definition needs the container name',
      config: {
        taskDefinitionArn: arn,
        subnets: ['s'],
        loadBalancer: { targetGroupArn: 'arn:aws:x', containerPort: 80 },
      },
      paths: ['loadBalancer.containerName'],
    },
  ];
  for (const { reason, config, paths } of cases) {
    it(reason, () => {
      const cleaned = JSON.parse(
        JSON.stringify(config, (_k, v: unknown) => (v === null ? undefined : v)),
      ) as JsonObject;
      assert.deepEqual(
        validateEcsConfig(cleaned).map((p) => p.path),
        paths,
      );
    });
  }
});

describe('ecs provider options', () => {
  it('applies defaults and derives the wait from the provider timeout', () => {
    const options = parseEcsOptions({
      options: { region: 'us-east-1', pollIntervalMs: '250' },
      timeoutMs: 600_000,
    });
    assert.equal(options.region, 'us-east-1');
    assert.equal(options.pollIntervalMs, 250);
    assert.equal(options.waitTimeoutMs, 540_000);
    assert.equal(options.maxAttempts, 3);
  });

  it('names every bad key', () => {
    assert.throws(
      () =>
        parseEcsOptions({
          options: { pollIntervalMs: -1, region: 3, credentials: { accessKeyId: 'x' } },
          timeoutMs: 1,
        }),
      (error: { problems: { path: string }[] }) => {
        assert.deepEqual(error.problems.map((p) => p.path).sort(), [
          'credentials',
          'pollIntervalMs',
          'region',
        ]);
        return true;
      },
    );
  });
});

describe('lazy loading', () => {
  it('importing the provider folder does not load the AWS SDK; creating the provider does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lessor-ecs-lazy-'));
    try {
      const hooks = join(dir, 'hooks.mjs');
      const register = join(dir, 'register.mjs');
      writeFileSync(
        hooks,
        "export async function resolve(s, c, next) { if (s.startsWith('@aws-sdk/')) throw new Error('SDK LOADED ' + s); return next(s, c); }",
      );
      writeFileSync(
        register,
        `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`,
      );
      const index = pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href;
      const script = [
        `const m = await import(${JSON.stringify(index)});`,
        "console.log('IMPORTED', typeof m.ecsProviderFactory.create);",
        "await m.ecsProviderFactory.create({ options: {}, defaults: {}, timeoutMs: 1000, dataDir: '.', logger: null })",
        '  .catch((e) => console.log(e.message));',
      ].join('\n');
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', register, '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
        },
      );
      assert.match(child.stdout, /IMPORTED function/, child.stderr);
      assert.match(child.stdout, /SDK LOADED @aws-sdk\/client-ecs/, child.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
