/** The docker provider's host policy on a real directory tree with symlinks (no engine needed). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ValidationError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import { compileConfigSchema } from '../../config-validator.js';
import { asDockerConfig, DOCKER_CONFIG_SCHEMA, validateDockerConfig } from './docker-config.js';
import { dockerProviderOptions } from './docker-options.js';
import { bindsFor, NO_HOST_ACCESS, planVolumes, type HostPolicy } from './host-policy.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'lessor-binds-')));
after(() => rmSync(base, { recursive: true, force: true }));
for (const dir of ['data/app', 'data/frozen', 'data2', 'secret', 'ro'])
  mkdirSync(join(base, dir), { recursive: true });
symlinkSync(join(base, 'secret'), join(base, 'data', 'link-out'));
symlinkSync(join(base, 'data', 'app'), join(base, 'link-in'));

const policy: HostPolicy = {
  allowedBindRoots: [
    { path: join(base, 'data'), writable: true },
    { path: join(base, 'data', 'frozen'), writable: false },
    { path: join(base, 'ro'), writable: false },
  ],
  hostIp: '127.0.0.1',
  allowedHostIps: ['10.1.2.3', 'fd00::1'],
};

const TENANT = 'tid-1';
const volume = (source: string, extra: JsonObject = {}): JsonObject => ({ source, target: '/mnt', ...extra });

describe('volumes: bind mounts only under allowed roots, named volumes per tenant', () => {
  const cases: {
    reason: string;
    volume: JsonObject;
    policy?: HostPolicy;
    binds?: string[];
    problem?: string;
  }[] = [
    {
      reason: 'by default every bind mount is refused',
      volume: volume('/etc'),
      policy: NO_HOST_ACCESS,
      problem: 'volumes.0.source',
    },
    {
      reason: 'under a writable root: read-write',
      volume: volume(`${base}/data/app`),
      binds: [`${base}/data/app:/mnt`],
    },
    {
      reason: 'a path that does not exist yet under a root',
      volume: volume(`${base}/data/new/dir`),
      binds: [`${base}/data/new/dir:/mnt`],
    },
    { reason: 'the root itself', volume: volume(`${base}/data`), binds: [`${base}/data:/mnt`] },
    {
      reason: 'a sibling sharing the prefix (/data2 is not under /data)',
      volume: volume(`${base}/data2`),
      problem: 'volumes.0.source',
    },
    {
      reason: "'..' is refused, not resolved",
      volume: volume(`${base}/data/../secret`),
      problem: 'volumes.0.source',
    },
    { reason: "'//' is refused", volume: volume(`${base}/data//app`), problem: 'volumes.0.source' },
    { reason: 'a control character', volume: volume(`${base}/data/a\u0000b`), problem: 'volumes.0.source' },
    {
      reason: 'a symlink under a root pointing out of it',
      volume: volume(`${base}/data/link-out/x`),
      problem: 'volumes.0.source',
    },
    {
      reason: 'a symlink outside pointing into a root: the resolved path is what gets mounted',
      volume: volume(`${base}/link-in`),
      binds: [`${base}/data/app:/mnt`],
    },
    {
      reason: 'under a read-only root: read-only',
      volume: volume(`${base}/ro/x`),
      binds: [`${base}/ro/x:/mnt:ro`],
    },
    {
      reason: 'the most specific root decides: a read-only root inside a writable one',
      volume: volume(`${base}/data/frozen/x`),
      binds: [`${base}/data/frozen/x:/mnt:ro`],
    },
    {
      reason: 'asking for read-write under a read-only root',
      volume: volume(`${base}/ro/x`, { readOnly: false }),
      problem: 'volumes.0.readOnly',
    },
    {
      reason: 'read-only by choice under a writable root',
      volume: volume(`${base}/data/app`, { readOnly: true }),
      binds: [`${base}/data/app:/mnt:ro`],
    },
    {
      reason: "a named volume is the tenant's own",
      volume: volume('cache'),
      binds: [`lessor-${TENANT}-cache:/mnt`],
    },
    { reason: 'a relative path is not a volume name', volume: volume('./x'), problem: 'volumes.0.source' },
    { reason: "'.' is not a volume name", volume: volume('.'), problem: 'volumes.0.source' },
    { reason: "':' in a source", volume: volume('a:b'), problem: 'volumes.0.source' },
    {
      reason: 'mount options smuggled in the target',
      volume: { source: 'cache', target: '/mnt:rshared' },
      problem: 'volumes.0.target',
    },
    {
      reason: "',' in the target",
      volume: { source: 'cache', target: '/mnt,z' },
      problem: 'volumes.0.target',
    },
  ];
  for (const c of cases) {
    test(c.reason, () => {
      const plan = planVolumes(
        asDockerConfig({ image: 'i', volumes: [c.volume] }).volumes,
        c.policy ?? policy,
      );
      assert.deepEqual(
        plan.problems.map((p) => p.path),
        c.problem === undefined ? [] : [c.problem],
      );
      if (c.binds) assert.deepEqual(bindsFor(plan.mounts, TENANT), c.binds);
    });
  }
});

describe('network modes and published addresses', () => {
  const cases: { reason: string; config: JsonObject; paths: string[] }[] = [
    { reason: 'host network is refused', config: { network: 'host' }, paths: ['network'] },
    { reason: 'in any spelling', config: { network: 'HOST' }, paths: ['network'] },
    { reason: "another container's namespace", config: { network: 'container:db' }, paths: ['network'] },
    { reason: 'a namespace path', config: { network: 'ns:/proc/1/ns/net' }, paths: ['network'] },
    {
      reason: 'a mode with options',
      config: { network: 'slirp4netns:allow_host_loopback=true' },
      paths: ['network'],
    },
    { reason: 'a named network is fine', config: { network: 'tenants-net' }, paths: [] },
    { reason: 'bridge and none are fine', config: { network: 'none' }, paths: [] },
    { reason: 'ports bind loopback by default', config: { ports: [{ containerPort: 80 }] }, paths: [] },
    {
      reason: 'every interface is refused unless allowed',
      config: {
        ports: [
          { containerPort: 80, hostIp: '0.0.0.0' },
          { containerPort: 81, hostIp: '::' },
        ],
      },
      paths: ['ports.0.hostIp', 'ports.1.hostIp'],
    },
    {
      reason: 'an allowed address, in any IPv6 spelling',
      config: {
        ports: [
          { containerPort: 80, hostIp: '10.1.2.3' },
          { containerPort: 81, hostIp: 'fd00:0::1' },
        ],
      },
      paths: [],
    },
    {
      reason: 'a name or an empty address is not an IP (empty means every interface to the engine)',
      config: {
        ports: [
          { containerPort: 80, hostIp: 'localhost' },
          { containerPort: 81, hostIp: '' },
        ],
      },
      paths: ['ports.0.hostIp', 'ports.1.hostIp'],
    },
  ];
  for (const { reason, config, paths } of cases) {
    test(reason, () => {
      assert.deepEqual(
        validateDockerConfig({ image: 'i', ...config }, policy).map((p) => p.path),
        paths,
      );
    });
  }
});

describe('allowedBindRoots and allowedHostIps options', () => {
  test('parsed, with writable defaulting to false', () => {
    const { hostPolicy } = dockerProviderOptions(
      {
        allowedBindRoots: [{ path: '/srv/a', writable: true }, { path: '/srv/b' }],
        allowedHostIps: ['10.0.0.1'],
      },
      {},
    );
    assert.deepEqual(hostPolicy, {
      allowedBindRoots: [
        { path: '/srv/a', writable: true },
        { path: '/srv/b', writable: false },
      ],
      hostIp: '127.0.0.1',
      allowedHostIps: ['10.0.0.1'],
    });
    assert.deepEqual(dockerProviderOptions({}, {}).hostPolicy, NO_HOST_ACCESS, 'none by default');
  });

  test('hostIp: any loopback address, or an allowed one; nothing else', () => {
    const hostIpOf = (options: Record<string, unknown>) =>
      dockerProviderOptions(options, {}).hostPolicy.hostIp;
    assert.equal(hostIpOf({ hostIp: '127.0.0.2' }), '127.0.0.2');
    assert.equal(hostIpOf({ hostIp: '::1' }), '::1');
    assert.equal(hostIpOf({ hostIp: '10.0.0.1', allowedHostIps: ['10.0.0.1'] }), '10.0.0.1');
    for (const hostIp of ['10.0.0.1', '0.0.0.0', '::', 'localhost', 7]) {
      assert.throws(
        () => hostIpOf({ hostIp }),
        (error: unknown) => error instanceof ValidationError && error.problems[0]?.path === 'hostIp',
        String(hostIp),
      );
    }
  });

  test('bad entries are start-up errors naming the key', () => {
    assert.throws(
      () =>
        dockerProviderOptions(
          {
            allowedBindRoots: [{ path: 'relative' }, '/plain-string', { path: '/x', writable: 'yes' }],
            allowedHostIps: ['example.com'],
          },
          {},
        ),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(
          error.problems.map((p) => p.path),
          ['allowedBindRoots.0', 'allowedBindRoots.1', 'allowedBindRoots.2.writable', 'allowedHostIps'],
        );
        return true;
      },
    );
  });
});

test('privileged mode, capabilities, devices and host namespaces have no field: the schema refuses them', () => {
  const escapes = {
    privileged: true,
    capAdd: ['SYS_ADMIN'],
    devices: ['/dev/sda'],
    pidMode: 'host',
    ipcMode: 'host',
  };
  assert.deepEqual(
    compileConfigSchema(DOCKER_CONFIG_SCHEMA)({ image: 'i', ...escapes }).map((p) => [p.path, p.message]),
    Object.keys(escapes).map((key) => [`spec.config.${key}`, 'unknown field']),
  );
});
