/** Pure parts of the docker provider: semantic validation, the create body, labels, endpoints. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalJson, sha256Hex } from '../../../domain/canonical-json.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { testHasher } from '../../../domain/testing/test-hasher.js';
import {
  changedFields,
  createBody,
  fieldHashes,
  LABEL,
  primaryName,
  transientName,
} from './container-spec.js';
import { endpointsOf, inspectFromSummary, isRunning, pickCurrent, resourcesOf } from './container-view.js';
import { asDockerConfig, validateDockerConfig } from './docker-config.js';
import type { ContainerInspect, ContainerSummary } from './docker-types.js';
import { dockerProviderOptions } from './docker-options.js';
import { bindsFor, NO_HOST_ACCESS, planVolumes } from './host-policy.js';

const base = { image: 'img:1', ports: [{ containerPort: 8080 }] };

describe('validateDockerConfig', () => {
  const cases: { reason: string; config: Record<string, unknown>; paths: string[] }[] = [
    { reason: 'a minimal config is fine', config: { image: 'img' }, paths: [] },
    { reason: 'image is required', config: { image: ' ' }, paths: ['image'] },
    {
      reason: 'health check port must be published over tcp',
      config: { ...base, healthCheck: { type: 'tcp', port: 9090 } },
      paths: ['healthCheck.port'],
    },
    {
      reason: 'duplicate container port, host port and name',
      config: {
        image: 'i',
        ports: [
          { containerPort: 80, hostPort: 8000, name: 'web' },
          { containerPort: 80, hostPort: 8000, name: 'web' },
          { containerPort: 80, protocol: 'udp' },
        ],
      },
      paths: ['ports.1.containerPort', 'ports.1.hostPort', 'ports.1.name'],
    },
    {
      reason: 'same variable in env and secretEnv',
      config: { image: 'i', env: { A: '1' }, secretEnv: { A: '2' } },
      paths: ['secretEnv.A'],
    },
    { reason: 'invalid variable name', config: { image: 'i', env: { 'A=B': '1' } }, paths: ['env.A=B'] },
    {
      reason: 'reserved label prefix',
      config: { image: 'i', labels: { 'lessor.tenant-id': 'x' } },
      paths: ['labels.lessor.tenant-id'],
    },
    {
      reason: 'colon in a volume source',
      config: { image: 'i', volumes: [{ source: 'a:b', target: '/d' }] },
      paths: ['volumes.0.source'],
    },
  ];
  for (const { reason, config, paths } of cases) {
    test(reason, () => {
      assert.deepEqual(
        validateDockerConfig(config as JsonObject).map((p) => p.path),
        paths,
      );
    });
  }
});

describe('container spec', () => {
  const tenant = { id: 'tid-1', name: 'acme' };
  const config = {
    image: 'img:1',
    command: ['serve'],
    env: { MODE: 'a' },
    secretEnv: { TOKEN: 's3cr3t' },
    ports: [
      { containerPort: 8080, name: 'web' },
      { containerPort: 9000, hostPort: 19000, hostIp: '0.0.0.0' },
      { containerPort: 53, protocol: 'udp' },
    ],
    resources: { cpus: 0.5, memoryMb: 64 },
    restartPolicy: 'always',
    volumes: [{ source: 'data', target: '/data', readOnly: true }],
    labels: { team: 'x' },
  } as const;
  const request = { tenant, generation: 3, executionId: 'ex-1', config: config as unknown as JsonObject };
  const { mounts } = planVolumes(asDockerConfig(request.config).volumes, NO_HOST_ACCESS);
  const body = createBody(request, asDockerConfig(request.config), testHasher, bindsFor(mounts, tenant.id));

  test('the create body carries image, env (secrets included), limits, ports and binds', () => {
    assert.equal(body.Image, 'img:1');
    assert.deepEqual(body.Cmd, ['serve']);
    assert.deepEqual(body.Env, ['MODE=a', 'TOKEN=s3cr3t']);
    assert.deepEqual(body.HostConfig.PortBindings, {
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '9000/tcp': [{ HostIp: '0.0.0.0', HostPort: '19000' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    assert.equal(body.HostConfig.NanoCpus, 500_000_000);
    assert.equal(body.HostConfig.Memory, 64 * 1024 * 1024);
    assert.deepEqual(body.HostConfig.RestartPolicy, { Name: 'always' });
    assert.deepEqual(body.HostConfig.Binds, ['lessor-tid-1-data:/data:ro'], "the tenant's own volume");
  });

  test('labels identify the tenant and never contain secret values', () => {
    assert.equal(body.Labels[LABEL.tenantId], 'tid-1');
    assert.equal(body.Labels[LABEL.generation], '3');
    assert.equal(body.Labels[LABEL.configHash], testHasher(request.config));
    assert.equal(body.Labels.team, 'x');
    assert.doesNotMatch(JSON.stringify(body.Labels), /s3cr3t/);
  });

  test('label hashes are keyed: none is a plain SHA-256 that a guess of the secret reproduces', () => {
    const plain = (value: unknown) => sha256Hex(canonicalJson(value));
    assert.notEqual(body.Labels[LABEL.configHash], plain(request.config).slice(0, 16));
    const fields = JSON.parse(body.Labels[LABEL.configFields]!) as Record<string, string>;
    const secretEnv = { tenantId: tenant.id, value: config.secretEnv };
    assert.notEqual(fields.secretEnv, plain(secretEnv).slice(0, 12));
  });

  test('names: steady and transient', () => {
    assert.equal(primaryName('acme'), 'lessor-acme');
    assert.equal(transientName('acme', 4, 'abcdef0123456789'), 'lessor-acme-g4-abcdef01');
  });

  test('changedFields compares per-field hashes; unknown history means everything changed', () => {
    const before = JSON.stringify(
      fieldHashes('t', asDockerConfig({ image: 'a', env: { X: '1' } }), testHasher),
    );
    const after = fieldHashes('t', asDockerConfig({ image: 'a', env: { X: '2' }, network: 'n' }), testHasher);
    assert.deepEqual(changedFields(before, after), ['env', 'network']);
    assert.deepEqual(changedFields(undefined, after), ['env', 'image', 'network']);
  });

  test('endpoints: port names, one default "http", wildcard binds reached over loopback, udp scheme', () => {
    const inspect = {
      Id: 'c1',
      Name: '/lessor-acme',
      State: { Running: true },
      Config: { Labels: body.Labels },
      NetworkSettings: {
        Ports: {
          '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '40001' }],
          '9000/tcp': [{ HostIp: '0.0.0.0', HostPort: '19000' }],
          '53/udp': [{ HostIp: '127.0.0.1', HostPort: '40002' }],
        },
      },
    } satisfies ContainerInspect;
    assert.deepEqual(endpointsOf(inspect), [
      { name: 'web', url: 'http://127.0.0.1:40001' },
      { name: 'http', url: 'http://127.0.0.1:19000' },
      { name: 'udp-53', url: 'udp://127.0.0.1:40002' },
    ]);
  });

  test('a running summary with every recorded port published describes like an inspect', () => {
    const summary = {
      Id: 'c1',
      Names: ['/lessor-acme'],
      Image: 'img:1',
      State: 'running',
      Labels: body.Labels,
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 40001, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 19000, Type: 'tcp' },
        { IP: '::', PrivatePort: 9000, PublicPort: 19000, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 40002, Type: 'udp' },
      ],
    } satisfies ContainerSummary;
    const view = inspectFromSummary(summary);
    assert.ok(view);
    assert.deepEqual(resourcesOf(view), { containerId: 'c1', containerName: 'lessor-acme' });
    assert.equal(isRunning(view), true);
    assert.deepEqual(endpointsOf(view), [
      { name: 'web', url: 'http://127.0.0.1:40001' },
      { name: 'http', url: 'http://127.0.0.1:19000' },
      { name: 'udp-53', url: 'udp://127.0.0.1:40002' },
    ]);
  });

  test('a summary lacking a recorded host port, or of a container not running, needs an inspect', () => {
    const summary = {
      Id: 'c1',
      Names: ['/lessor-acme'],
      State: 'running',
      Labels: body.Labels,
      Ports: [
        { IP: '127.0.0.1', PrivatePort: 8080, PublicPort: 40001, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
        { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 40002, Type: 'udp' },
      ],
    } satisfies ContainerSummary;
    assert.equal(inspectFromSummary(summary), undefined, 'port 9000 exposed, not published');
    assert.equal(inspectFromSummary({ ...summary, Ports: [] }), undefined, 'host networking: no ports');
    const published = summary.Ports.map((p) => ({ ...p, PublicPort: p.PublicPort ?? 19000 }));
    assert.ok(inspectFromSummary({ ...summary, Ports: published }));
    assert.equal(inspectFromSummary({ ...summary, Ports: published, State: 'exited' }), undefined);
    assert.equal(inspectFromSummary({ ...summary, Ports: published, State: 'paused' }), undefined);
  });

  test('pickCurrent prefers running, then the highest generation, then the newest', () => {
    const c = (Id: string, State: string, generation: number, Created: number): ContainerSummary => ({
      Id,
      State,
      Created,
      Labels: { [LABEL.generation]: String(generation) },
    });
    assert.equal(pickCurrent([c('a', 'exited', 5, 9), c('b', 'running', 1, 1)])?.Id, 'b');
    assert.equal(pickCurrent([c('a', 'running', 1, 9), c('b', 'running', 2, 1)])?.Id, 'b');
    assert.equal(pickCurrent([c('a', 'created', 2, 1), c('b', 'created', 2, 5)])?.Id, 'b');
    assert.equal(pickCurrent([]), undefined);
  });
});

describe('dockerProviderOptions', () => {
  test('host defaults to DOCKER_HOST, then the Docker socket', () => {
    assert.equal(dockerProviderOptions({}, { DOCKER_HOST: 'tcp://h:1' }).host, 'tcp://h:1');
    assert.equal(dockerProviderOptions({}, {}).host, 'unix:///var/run/docker.sock');
    assert.equal(
      dockerProviderOptions({ host: 'unix:///x.sock' }, { DOCKER_HOST: 'tcp://h:1' }).host,
      'unix:///x.sock',
    );
  });

  test('bad options are rejected at start-up', () => {
    assert.throws(
      () => dockerProviderOptions({ host: 'ftp://x', stopTimeoutSeconds: -1 }, {}),
      /invalid docker provider options/,
    );
  });
});
