import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

import { parseDatabaseUrl } from '../../store/create-store.js';
import { ConfigError, loadConfig, type ConfigFlags, type LessorConfig } from './load-config.js';

const scratch = mkdtempSync(join(tmpdir(), 'lessor-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh working directory, with `lessor.yaml` (or `name`) holding `yaml` when given. */
function workdir(yaml?: string, name = 'lessor.yaml'): string {
  const dir = mkdtempSync(join(scratch, 'wd-'));
  if (yaml !== undefined) writeFileSync(join(dir, name), yaml);
  return dir;
}

interface Case {
  readonly reason: string;
  readonly file?: string;
  readonly env?: Record<string, string>;
  readonly flags?: ConfigFlags;
}

function load(c: Omit<Case, 'reason'>): Readonly<LessorConfig> {
  return loadConfig({ cwd: workdir(c.file), env: c.env ?? {}, flags: c.flags ?? {} });
}

const SHA = 'a'.repeat(64);
/** A well-formed Restate request-identity key (the example of the SDK's documentation). */
const IDENTITY_KEY = 'publickeyv1_2G8dCQhArfvGpzPw5Vx2ALciR4xCLHfS5YaT93XjNxX9';
const RESTATE_ENV = {
  LESSOR_ENGINE__TYPE: 'restate',
  LESSOR_ENGINE__RESTATE__INGRESS_URL: 'http://127.0.0.1:18080',
  LESSOR_ENGINE__RESTATE__ADMIN_URL: 'http://127.0.0.1:19070',
};

describe('loadConfig precedence: defaults < file < env < flags', () => {
  const cases: (Case & { readonly port: number })[] = [
    { reason: 'the built-in default applies when nothing sets the key', port: 8080 },
    { reason: 'the file overrides the default', file: 'server: { port: 9001 }', port: 9001 },
    {
      reason: 'the environment overrides the file',
      file: 'server: { port: 9001 }',
      env: { LESSOR_SERVER__PORT: '9002' },
      port: 9002,
    },
    {
      reason: 'a flag overrides the environment',
      file: 'server: { port: 9001 }',
      env: { LESSOR_SERVER__PORT: '9002' },
      flags: { port: 9003 },
      port: 9003,
    },
    {
      reason: 'a --set override counts as a flag',
      env: { LESSOR_SERVER__PORT: '9002' },
      flags: { set: ['server.port=9004'] },
      port: 9004,
    },
  ];
  for (const c of cases) {
    test(c.reason, () => {
      assert.equal(load(c).server.port, c.port);
    });
  }

  test('layers merge key by key: a later layer replaces only the keys it sets', () => {
    const config = load({
      file:
        'engine: { embedded: { leaseMs: 5000 } }\nserver: { host: 0.0.0.0, tokens: [{ name: ci, role: admin, sha256: ' +
        SHA +
        ' }] }',
      env: { LESSOR_ENGINE__EMBEDDED__POLL_INTERVAL_MS: '250' },
      flags: { host: '127.0.0.2' },
    });
    assert.deepEqual(config.engine.embedded, { leaseMs: 5000, pollIntervalMs: 250 });
    assert.equal(config.server.host, '127.0.0.2');
    assert.equal(config.server.tokens.length, 1);
    assert.equal(config.server.port, 8080);
  });

  test('a configured providers block replaces the built-in {process: {}} rather than adding to it', () => {
    const config = load({
      file: 'compute: { defaultProvider: docker, providers: { docker: { host: "unix:///x.sock" } } }',
    });
    assert.deepEqual(Object.keys(config.compute.providers), ['docker']);
  });

  test('--config names the file instead of lessor.yaml', () => {
    const cwd = workdir('server: { port: 9100 }', 'other.yaml');
    writeFileSync(join(cwd, 'lessor.yaml'), 'server: { port: 9200 }');
    assert.equal(loadConfig({ cwd, env: {}, flags: { config: 'other.yaml' } }).server.port, 9100);
    assert.equal(loadConfig({ cwd, env: {}, configFile: join(cwd, 'other.yaml') }).server.port, 9100);
    assert.equal(loadConfig({ cwd, env: {} }).server.port, 9200);
  });
});

describe('loadConfig environment mapping', () => {
  const cases: (Case & { readonly check: (config: Readonly<LessorConfig>) => void })[] = [
    {
      reason: 'LESSOR_DATABASE__URL sets database.url',
      env: { LESSOR_DATABASE__URL: 'postgres://lessor@db:5432/lessor' },
      check: (config) => assert.equal(config.database.url, 'postgres://lessor@db:5432/lessor'),
    },
    {
      reason: 'words of a camelCase key are joined by _, provider names are lower-cased record keys',
      env: {
        LESSOR_COMPUTE__DEFAULT_PROVIDER: 'docker',
        LESSOR_COMPUTE__PROVIDERS__DOCKER__HOST: 'unix:///run/lessor-podman.sock',
        LESSOR_COMPUTE__PROVIDERS__DOCKER__TIMEOUT_MS: '5000',
      },
      check: (config) => {
        assert.equal(config.compute.defaultProvider, 'docker');
        assert.deepEqual(config.compute.providers.docker, {
          host: 'unix:///run/lessor-podman.sock',
          timeoutMs: 5000,
        });
      },
    },
    {
      reason: 'LESSOR_ENGINE__TYPE selects the engine; nested restate settings follow the same scheme',
      env: {
        LESSOR_ENGINE__TYPE: 'restate',
        LESSOR_ENGINE__RESTATE__INGRESS_URL: 'http://127.0.0.1:18080',
        LESSOR_ENGINE__RESTATE__ADMIN_URL: 'http://127.0.0.1:19070',
        LESSOR_ENGINE__RESTATE__ENDPOINT_PORT: '19080',
      },
      check: (config) => {
        assert.equal(config.engine.type, 'restate');
        assert.equal(config.engine.restate.ingressUrl, 'http://127.0.0.1:18080');
        assert.equal(config.engine.restate.endpointPort, 19080);
      },
    },
    {
      reason: 'a restate endpoint off loopback is accepted with identity keys (a JSON list)',
      env: {
        ...RESTATE_ENV,
        LESSOR_ENGINE__RESTATE__ENDPOINT_HOST: '10.0.0.5',
        LESSOR_ENGINE__RESTATE__IDENTITY_KEYS: JSON.stringify([IDENTITY_KEY]),
      },
      check: (config) => {
        assert.equal(config.engine.restate.endpointHost, '10.0.0.5');
        assert.deepEqual(config.engine.restate.identityKeys, [IDENTITY_KEY]);
      },
    },
    {
      reason: 'the embedded engine ignores the restate endpoint host',
      env: { LESSOR_ENGINE__RESTATE__ENDPOINT_HOST: '0.0.0.0' },
      check: (config) => assert.equal(config.engine.type, 'embedded'),
    },
    {
      reason: 'stream caps and the shutdown grace are set like any nested key',
      env: {
        LESSOR_SERVER__SSE__MAX_STREAMS_PER_PRINCIPAL: '5',
        LESSOR_SERVER__SHUTDOWN_GRACE_MS: '2500',
      },
      check: (config) => {
        assert.equal(config.server.sse.maxStreamsPerPrincipal, 5);
        assert.equal(config.server.sse.maxStreams, 1000);
        assert.equal(config.server.shutdownGraceMs, 2500);
      },
    },
    {
      reason: 'arrays are given as JSON',
      env: {
        LESSOR_SERVER__TOKENS: JSON.stringify([{ name: 'ci', role: 'operator', sha256: SHA.toUpperCase() }]),
      },
      check: (config) =>
        assert.deepEqual(config.server.tokens, [{ name: 'ci', role: 'operator', sha256: SHA }]),
    },
    {
      reason: 'booleans and numbers are coerced; error codes under onError keep their upper case',
      env: {
        LESSOR_RETRY_POLICY__PROVISION__MAX_ATTEMPTS: '3',
        LESSOR_RETRY_POLICY__PROVISION__JITTER: 'false',
        LESSOR_RETRY_POLICY__PROVISION__ON_ERROR__IMAGE_UNAVAILABLE: 'retry',
      },
      check: (config) =>
        assert.deepEqual(config.retryPolicy.provision, {
          maxAttempts: 3,
          jitter: false,
          onError: { IMAGE_UNAVAILABLE: 'retry' },
        }),
    },
    {
      reason: 'retention windows are days, fractions allowed; 0 keeps a kind forever',
      env: { LESSOR_RETENTION__EVENTS__DAYS: '0.5', LESSOR_RETENTION__CALLBACKS__DAYS: '0' },
      check: (config) =>
        assert.deepEqual(
          [config.retention.events.days, config.retention.callbacks.days, config.retention.runs.days],
          [0.5, 0, 30],
        ),
    },
    {
      reason: 'a top-level scalar key needs no __',
      env: { LESSOR_DATA_DIR: '/var/lib/lessor' },
      check: (config) => assert.equal(config.dataDir, '/var/lib/lessor'),
    },
    {
      reason: "the CLI client's LESSOR_URL and LESSOR_TOKEN, and other unrelated variables, are ignored",
      env: { LESSOR_URL: 'http://x', LESSOR_TOKEN: 'secret', LESSOR_TEST_CONCURRENCY: '2', PATH: '/bin' },
      check: (config) => assert.equal(config.server.port, 8080),
    },
  ];
  for (const c of cases) {
    test(c.reason, () => c.check(load(c)));
  }
});

describe('loadConfig errors name the key and where the value came from', () => {
  const cases: (Case & { readonly cwdFile?: string; readonly messages: readonly string[] })[] = [
    {
      reason: 'a port that is not a number, from the environment',
      env: { LESSOR_SERVER__PORT: 'abc' },
      messages: ['server.port: expected a number between 1 and 65535 (from LESSOR_SERVER__PORT="abc")'],
    },
    {
      reason: 'a port out of range, from a flag',
      flags: { port: 70000 },
      messages: ['server.port: expected a number between 1 and 65535 (from --port="70000")'],
    },
    {
      reason: 'an unknown engine type, from the file',
      file: 'engine:\n  type: temporal\n',
      messages: ['engine.type: expected one of: embedded, restate (from lessor.yaml)'],
    },
    {
      reason: 'an unknown engine type, from the environment',
      env: { LESSOR_ENGINE__TYPE: 'temporal' },
      messages: ['engine.type: expected one of: embedded, restate (from LESSOR_ENGINE__TYPE="temporal")'],
    },
    {
      reason: 'an unknown key in the file',
      file: 'server:\n  prot: 9000\n',
      messages: ['server.prot: unknown key (from lessor.yaml)'],
    },
    {
      reason: 'an unknown key from the environment',
      env: { LESSOR_SERVRE__PORT: '9000' },
      messages: ['servre: unknown key (from LESSOR_SERVRE__PORT="9000")'],
    },
    {
      reason: 'a missing --config file',
      flags: { config: 'missing.yaml' },
      messages: ['--config: no such file: missing.yaml'],
    },
    {
      reason: 'restate needs its URLs',
      env: { LESSOR_ENGINE__TYPE: 'restate' },
      messages: ['engine.restate.ingressUrl: required when engine.type is restate'],
    },
    {
      reason: 'an unauthenticated bind off loopback is refused',
      env: { LESSOR_COMPUTE__PROVIDERS__PROCESS__ALLOW_REMOTE: 'true' },
      flags: { host: '0.0.0.0' },
      messages: [
        'server.host: refusing to listen on \'0.0.0.0\' without authentication: configure server.tokens or bind to 127.0.0.1 (from --host="0.0.0.0")',
      ],
    },
    {
      reason: 'off loopback the process provider needs allowRemote, and every refusal is listed',
      flags: { host: '0.0.0.0' },
      messages: [
        'server.host: refusing to listen on \'0.0.0.0\' without authentication: configure server.tokens or bind to 127.0.0.1 (from --host="0.0.0.0")',
        "compute.providers.process.allowRemote: must be true to offer the process provider on '0.0.0.0': it runs tenant commands on this host as Lessor's user (see docs/providers/process.md); otherwise configure other compute.providers, or bind server.host to 127.0.0.1",
      ],
    },
    {
      reason: 'a restate endpoint off loopback without identity keys is refused',
      env: { ...RESTATE_ENV, LESSOR_ENGINE__RESTATE__ENDPOINT_HOST: '0.0.0.0' },
      messages: [
        'engine.restate.endpointHost: refusing to serve the Restate endpoint on \'0.0.0.0\' without request signing: configure engine.restate.identityKeys or bind to 127.0.0.1 (from LESSOR_ENGINE__RESTATE__ENDPOINT_HOST="0.0.0.0")',
      ],
    },
    {
      reason: 'an identity key that is not a publickeyv1_ Ed25519 key',
      file: `engine: { restate: { identityKeys: [${IDENTITY_KEY.slice(0, -3)}, "publickeyv1_0OIl"] } }`,
      messages: [
        'engine.restate.identityKeys.0: expected a Restate request-identity key (publickeyv1_…) (from lessor.yaml)',
        'engine.restate.identityKeys.1: expected a Restate request-identity key (publickeyv1_…) (from lessor.yaml)',
      ],
    },
    {
      reason: 'the default provider must have a block',
      env: { LESSOR_COMPUTE__DEFAULT_PROVIDER: 'docker' },
      messages: [
        'compute.defaultProvider: provider "docker" has no block under compute.providers (configured: process)',
      ],
    },
    {
      reason: 'a negative retention window',
      file: 'retention:\n  runs: { days: -1 }\n',
      messages: ['retention.runs.days: expected a number of at least 0 (from lessor.yaml)'],
    },
    {
      reason: 'a YAML syntax error names the file',
      file: 'server: [1, 2\n',
      messages: ['lessor.yaml: '],
    },
    {
      reason: 'a malformed --set entry',
      flags: { set: ['server.port'] },
      messages: ['--set: expected dotted.path=value, got "server.port"'],
    },
    {
      reason: 'every problem is listed at once',
      file: 'log: { format: xml }\n',
      env: { LESSOR_SERVER__PORT: '0' },
      flags: { set: ['controller.workers=many'] },
      messages: [
        'server.port: expected a number between 1 and 65535 (from LESSOR_SERVER__PORT="0")',
        'controller.workers: expected a number between 1 and 256 (from --set controller.workers="many")',
        'log.format: expected one of: json, pretty (from lessor.yaml)',
      ],
    },
  ];
  for (const c of cases) {
    test(c.reason, () => {
      assert.throws(
        () => load(c),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
          for (const message of c.messages) {
            assert.ok(error.message.includes(message), `expected "${message}" in:\n${error.message}`);
          }
          return true;
        },
      );
    });
  }

  test('secrets in rejected values are not echoed', () => {
    assert.throws(
      () =>
        load({
          env: {
            LESSOR_DATABASE__URL: 'mysql://lessor:hunter2@db/lessor',
            LESSOR_SERVER__TOKENS: '[{"name":"x"}]',
          },
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.ok(!error.message.includes('hunter2'), error.message);
        assert.ok(
          error.message.includes('(from LESSOR_DATABASE__URL="mysql://lessor:***@db/lessor")'),
          error.message,
        );
        assert.ok(error.message.includes('(from LESSOR_SERVER__TOKENS="***")'), error.message);
        return true;
      },
    );
  });
});

test('the loaded configuration is deeply frozen', () => {
  const config = load({
    file: 'compute: { providers: { docker: { defaults: { image: nginx } } } , defaultProvider: docker }',
  });
  const frozen = (value: unknown): boolean =>
    typeof value !== 'object' ||
    value === null ||
    (Object.isFrozen(value) && Object.values(value).every(frozen));
  assert.ok(frozen(config));
  assert.throws(() => {
    (config.server as { port: number }).port = 1;
  }, TypeError);
});

test('with nothing configured, the defaults are those of the README configuration reference', () => {
  assert.deepEqual(load({}), {
    server: {
      host: '127.0.0.1',
      port: 8080,
      tokens: [],
      bodyLimitBytes: 1_048_576,
      requestTimeoutMs: 30_000,
      rateLimit: { perMinute: 6000 },
      authFailureLimit: { perMinute: 30 },
      shutdownGraceMs: 10_000,
      dashboard: true,
      metrics: { openOnLoopback: true, refreshIntervalMs: 15_000 },
      sse: {
        maxStreams: 1000,
        maxStreamsPerPrincipal: 20,
        heartbeatMs: 15_000,
        pollIntervalMs: 1000,
        maxQueuedEvents: 1000,
      },
    },
    database: { url: 'sqlite:lessor.db', poolSize: 10, connectTimeoutMs: 30_000 },
    engine: {
      type: 'embedded',
      restate: { endpointPort: 9080, endpointHost: '127.0.0.1', identityKeys: [] },
      embedded: { leaseMs: 15_000, pollIntervalMs: 1000 },
    },
    controller: {
      workers: 4,
      resyncIntervalMs: 30_000,
      driftIntervalMs: 60_000,
      reconcileTimeoutMs: 30_000,
      rateLimitPerSecond: 2000,
    },
    compute: { defaultProvider: 'process', providers: { process: { timeoutMs: 120_000 } } },
    retryPolicy: { provision: {}, update: {}, delete: {}, suspend: {}, resume: {} },
    callbacks: { maxAttempts: 8, initialBackoffMs: 200, maxBackoffMs: 30_000, pollIntervalMs: 1000 },
    webhooks: {
      allowHttp: false,
      allowedNetworks: [],
      timeoutMs: 10_000,
      retryWindowMs: 86_400_000,
      initialBackoffMs: 5_000,
      maxBackoffMs: 3_600_000,
      maxConcurrencyPerEndpoint: 16,
      maxInFlight: 256,
      pollIntervalMs: 1000,
      secretOverlapMs: 86_400_000,
    },
    retention: {
      events: { days: 30 },
      runs: { days: 30 },
      executions: { days: 30 },
      callbacks: { days: 30 },
      webhookDeliveries: { days: 30 },
      rollouts: { days: 30 },
      sweepIntervalMs: 3_600_000,
      fullSweepIntervalMs: 86_400_000,
      batchSize: 250,
    },
    log: { level: 'info', format: 'json' },
    secrets: { keyFile: 'secrets.key', previousKeys: [] },
    policy: { rawSpecs: 'admin' },
    plans: [],
    telemetry: { otlp: {} },
    dataDir: './data',
  });
});

describe('webhooks', () => {
  test('allowed networks come from YAML or the environment as CIDRs; anything else names the key', () => {
    const config = load({
      env: { LESSOR_WEBHOOKS__ALLOWED_NETWORKS: '127.0.0.0/8, ::1/128', LESSOR_WEBHOOKS__ALLOW_HTTP: 'true' },
    });
    assert.deepEqual(config.webhooks.allowedNetworks, ['127.0.0.0/8', '::1/128']);
    assert.equal(config.webhooks.allowHttp, true);
    assert.throws(
      () => load({ env: { LESSOR_WEBHOOKS__ALLOWED_NETWORKS: 'localhost' } }),
      /webhooks\.allowedNetworks.*CIDR/s,
    );
  });
});

describe('policy and plans', () => {
  test('policy.rawSpecs is admin or operator, from the environment too', () => {
    assert.equal(load({ env: { LESSOR_POLICY__RAW_SPECS: 'operator' } }).policy.rawSpecs, 'operator');
    assert.throws(() => load({ env: { LESSOR_POLICY__RAW_SPECS: 'viewer' } }), /policy\.rawSpecs/);
  });

  test('plans are a list of plans as POST /v1/plans takes them; JSON from the environment', () => {
    const plans = [{ name: 'pro', spec: { config: { image: 'app:1' } }, allowedOverrides: ['/env'] }];
    const config = load({ env: { LESSOR_PLANS: JSON.stringify(plans) } });
    assert.deepEqual(config.plans, [
      {
        name: 'pro',
        description: '',
        spec: { config: { image: 'app:1' }, retryPolicy: null },
        allowedOverrides: ['/env'],
      },
    ]);
    assert.throws(
      () => load({ env: { LESSOR_PLANS: JSON.stringify([{ name: 'Bad Name', spec: {} }]) } }),
      /plans\.0\.name/,
    );
    const twice = JSON.stringify([plans[0], plans[0]]);
    assert.throws(() => load({ env: { LESSOR_PLANS: twice } }), /declared twice/);
  });
});

describe('secrets keys', () => {
  const key = (byte: number) => Buffer.alloc(32, byte);

  test('keys are read as base64 or hex; previous keys from the environment as a comma list', () => {
    const config = load({
      env: {
        LESSOR_SECRETS__KEY: key(1).toString('hex'),
        LESSOR_SECRETS__PREVIOUS_KEYS: `${key(2).toString('base64')}, ${key(3).toString('base64')}`,
      },
    });
    assert.equal(config.secrets.key, key(1).toString('hex'));
    assert.deepEqual(config.secrets.previousKeys, [key(2).toString('base64'), key(3).toString('base64')]);
  });

  test('a malformed key is a configuration error that never echoes it', () => {
    assert.throws(
      () => load({ env: { LESSOR_SECRETS__KEY: 'hunter2-is-not-a-key' } }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /secrets\.key: expected a 32-byte key/);
        assert.ok(!error.message.includes('hunter2'), error.message);
        return true;
      },
    );
  });
});

test('the default database file lives in dataDir once: ./data/lessor.db, not ./data/data/lessor.db', () => {
  const config = load({});
  assert.deepEqual(parseDatabaseUrl(config.database.url, config.dataDir), {
    kind: 'sqlite',
    filename: resolve('data/lessor.db'),
  });
});
