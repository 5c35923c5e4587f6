/** What the tenant commands send: specs from flags, manifests from files, merge patches. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './args.js';
import { hasSpecFlags, parseManifest, patchFromFlags, resolveName, specFromFlags } from './tenant-input.js';

test('create flags become a spec: image, env, secret env, ports, labels, command', () => {
  const spec = specFromFlags({
    provider: 'docker',
    image: 'nginx:alpine',
    env: { MODE: 'prod' },
    secretEnv: { API_KEY: 's3cret' },
    port: [{ containerPort: 80 }, { containerPort: 443, hostPort: 8443 }],
    label: { plan: 'pro' },
    command: `nginx -g 'daemon off;'`,
  });
  assert.deepEqual(spec, {
    provider: 'docker',
    config: {
      image: 'nginx:alpine',
      command: ['nginx', '-g', 'daemon off;'],
      env: { MODE: 'prod' },
      secretEnv: { API_KEY: 's3cret' },
      ports: [{ containerPort: 80 }, { containerPort: 443, hostPort: 8443 }],
    },
    labels: { plan: 'pro' },
  });
});

test('process provider: --command and repeated --arg build the argv; --port is the single port', () => {
  const spec = specFromFlags({
    provider: 'process',
    command: 'node server.js',
    arg: ['--name', 'a b'],
    port: [{ containerPort: 0 }],
  });
  assert.deepEqual(spec.config, { command: ['node', 'server.js', '--name', 'a b'], port: 0 });
  assert.deepEqual(specFromFlags({ provider: 'process', arg: ['sleep', '60'] }).config, {
    command: ['sleep', '60'],
  });
  assert.throws(
    () => specFromFlags({ provider: 'process', port: [{ containerPort: 1 }, { containerPort: 2 }] }),
    /single --port/,
  );
});

test('--config-json adds fields; flags win over it; no flags leave the provider to the server', () => {
  const spec = specFromFlags({
    configJson: '{"faults":{"nonRetriable":true},"image":"old","env":{"A":"1"}}',
    image: 'new',
    env: { B: '2' },
  });
  assert.deepEqual(spec, {
    config: { faults: { nonRetriable: true }, image: 'new', env: { A: '1', B: '2' } },
  });
  assert.throws(() => specFromFlags({ configJson: '[1]' }), /must be a JSON object/);
  assert.throws(() => specFromFlags({ configJson: '{' }), /not valid JSON/);
});

test('manifests: {name, spec}, {spec}, a bare spec, JSON or YAML, and `get -o yaml` output', () => {
  const cases: readonly {
    reason: string;
    text: string;
    name: string | undefined;
    provider: string | undefined;
  }[] = [
    {
      reason: 'YAML {name, spec}',
      text: 'name: acme\nspec:\n  provider: docker\n  config: {image: nginx}\n',
      name: 'acme',
      provider: 'docker',
    },
    {
      reason: 'JSON {name, spec}',
      text: '{"name":"acme","spec":{"config":{"image":"nginx"}}}',
      name: 'acme',
      provider: undefined,
    },
    { reason: '{spec} only', text: 'spec:\n  provider: fake\n', name: undefined, provider: 'fake' },
    {
      reason: 'bare spec',
      text: 'provider: process\nconfig:\n  command: [sleep, "60"]\n',
      name: undefined,
      provider: 'process',
    },
    {
      reason: 'a tenant as `get -o yaml` prints it: server fields ignored',
      text: 'id: 1\nname: acme\nspec: {provider: fake, config: {}}\ngeneration: 2\nstatus: {phase: ready}\nversion: 4\ncreatedAt: x\nupdatedAt: y\n',
      name: 'acme',
      provider: 'fake',
    },
  ];
  for (const { reason, text, name, provider } of cases) {
    const manifest = parseManifest(text, 'tenant.yaml');
    assert.equal(manifest.name, name, reason);
    assert.equal(manifest.spec.provider, provider, reason);
  }
});

test('bad manifests are usage errors naming the file', () => {
  const cases: readonly { reason: string; text: string; message: RegExp }[] = [
    { reason: 'not a mapping', text: '- a\n', message: /tenant.yaml must hold a mapping/ },
    {
      reason: 'unknown top-level field',
      text: 'name: a\nspec: {}\nkind: Tenant\n',
      message: /unknown field\(s\) kind/,
    },
    { reason: 'spec not a mapping', text: 'name: a\nspec: [1]\n', message: /spec must be a mapping/ },
    { reason: 'name not a string', text: 'name: 5\nspec: {}\n', message: /name must be a string/ },
    { reason: 'broken', text: 'name: [\n', message: /neither JSON nor YAML/ },
  ];
  for (const { reason, text, message } of cases)
    assert.throws(() => parseManifest(text, 'tenant.yaml'), message, reason);
});

test('the name comes from NAME or the file, and they must agree', () => {
  assert.equal(resolveName('acme', undefined), 'acme');
  assert.equal(resolveName(undefined, { name: 'acme', spec: {} }), 'acme');
  assert.equal(resolveName('acme', { name: 'acme', spec: {} }), 'acme');
  assert.throws(() => resolveName('other', { name: 'acme', spec: {} }), /differs/);
  assert.throws(() => resolveName(undefined, { name: undefined, spec: {} }), UsageError);
});

test('patches: flags become a merge patch of spec, merged over -p', () => {
  assert.deepEqual(patchFromFlags({ env: { MODE: 'debug' } }, undefined), {
    spec: { config: { env: { MODE: 'debug' } } },
  });
  assert.deepEqual(
    patchFromFlags(
      { label: { tier: 'gold' }, paused: true },
      '{"spec":{"config":{"env":{"A":null}},"paused":false}}',
    ),
    {
      spec: { config: { env: { A: null } }, paused: true, labels: { tier: 'gold' } },
    },
  );
  assert.deepEqual(patchFromFlags({}, '{"spec":{"paused":true}}'), { spec: { paused: true } });
  assert.deepEqual(patchFromFlags({ port: [{ containerPort: 9000 }] }, undefined, 'process'), {
    spec: { config: { port: 9000 } },
  });
  assert.throws(() => patchFromFlags({}, undefined), /nothing to patch/);
  assert.throws(() => patchFromFlags({}, 'null'), /must be a JSON object/);
});

test('spec flags are recognised among the other options', () => {
  assert.equal(hasSpecFlags({}), false);
  assert.equal(hasSpecFlags({ image: 'x' }), true);
  assert.equal(hasSpecFlags({ paused: false }), true);
  assert.equal(hasSpecFlags({ ...{ wait: true, timeout: 5 } } as object), false);
});
