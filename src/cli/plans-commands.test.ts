/**
 * `lessor plans …`, `tenants create --plan`, `tenants diff` and `--dry-run` on the tenant writes,
 * run in-process against a whole Lessor (real API, SQLite, embedded engine, fake provider) with an
 * admin and an operator token, so that plan policy is enforced as in production.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DryRunTenant, Plan, PlanRevision, SpecDiff, Tenant } from '../api/types.js';
import { runInProcess } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

const TOKENS = { admin: 'admin-token-plans', operator: 'operator-token-plans' } as const;

const PRO_V1 = `name: pro
description: Pro tier
spec:
  provider: fake
  config:
    image: app:1
    env: {MODE: prod, REGION: eu}
allowedOverrides: [/env]
`;

describe('lessor plans and plan-based tenants', () => {
  let api: TestLessor;
  let dir: string;
  const as = (token: string) => (args: readonly string[]) =>
    runInProcess(args, { LESSOR_URL: api.url, LESSOR_TOKEN: token });
  const admin = (...args: string[]) => as(TOKENS.admin)(args);
  const operator = (...args: string[]) => as(TOKENS.operator)(args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await admin(...args, '-o', 'json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    api = await startTestLessor({ tokens: TOKENS });
    dir = mkdtempSync(join(tmpdir(), 'lessor-plans-'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plans apply creates, leaves an unchanged plan alone, and makes a new revision of a changed one', async () => {
    const v1 = file('pro-v1.yaml', PRO_V1);
    const created = await admin('plans', 'apply', '-f', v1);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'plan/pro created (revision 1)\n');
    const again = await admin('plans', 'apply', '-f', v1);
    assert.equal(again.stdout, 'plan/pro unchanged (revision 1)\n', 'the same file makes no revision');

    const v2 = file('pro-v2.yaml', PRO_V1.replace('image: app:1', 'image: app:2'));
    const preview = await admin('plans', 'apply', '-f', v2, '--dry-run');
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /^plan\/pro configured \(revision 1 -> 2\) \(dry run\)\n/);
    assert.match(preview.stdout, /^- {4}image: app:1$/m);
    assert.match(preview.stdout, /^\+ {4}image: app:2$/m);
    assert.equal((await json<Plan>('plans', 'get', 'pro')).revision, 1, 'a dry run stores nothing');

    const configured = await admin('plans', 'apply', '-f', v2);
    assert.equal(configured.stdout, 'plan/pro configured (revision 1 -> 2)\n');
    const byOperator = await operator('plans', 'apply', '-f', file('free.yaml', 'name: free\nspec: {}\n'));
    assert.equal(byOperator.code, 6, 'plans are admin-owned');
    assert.match(byOperator.stderr, /FORBIDDEN/);
  });

  test('plans list, get, revisions and diff show the revisions', async () => {
    const table = await admin('plans', 'list');
    assert.match(table.stdout, /^NAME\s+REVISION\s+PROVIDER\s+OVERRIDES\s+DESCRIPTION\s+AGE\n/);
    assert.match(table.stdout, /^pro\s+2\s+fake\s+\/env\s+Pro tier\s+/m);
    const list = await json<{ items: Plan[] }>('plans', 'list');
    assert.deepEqual(
      list.items.map((p) => [p.name, p.revision]),
      [['pro', 2]],
    );
    const first = await json<PlanRevision>('plans', 'get', 'pro', '--revision', '1');
    assert.equal(first.spec.config.image, 'app:1');
    const revisions = await json<{ items: PlanRevision[] }>('plans', 'revisions', 'pro');
    assert.deepEqual(
      revisions.items.map((r) => [r.revision, r.actor]),
      [
        [2, 'api:admin-cli-test'],
        [1, 'api:admin-cli-test'],
      ],
    );
    const diff = await admin('plans', 'diff', 'pro');
    assert.equal(
      diff.stdout,
      [
        '--- plan/pro revision 1',
        '+++ plan/pro revision 2',
        '@@ -2,7 +2,7 @@',
        ' spec:',
        '   provider: fake',
        '   config:',
        '-    image: app:1',
        '+    image: app:2',
        '     env:',
        '       MODE: prod',
        '       REGION: eu',
        '',
      ].join('\n'),
    );
    const missing = await admin('plans', 'diff', 'pro', '--from', '1', '--to', '9');
    assert.equal(missing.code, 3, missing.stderr);
    const none = await admin('plans', 'get', 'nope');
    assert.equal(none.code, 3);
  });

  test('tenants create --plan pins the revision and sends only the overrides; policy is enforced', async () => {
    const tenant = await json<Tenant>(
      'tenants',
      'create',
      'acme',
      '--plan',
      'pro',
      '--env',
      'MODE=debug',
      '--wait',
    );
    assert.deepEqual(tenant.spec.plan, { name: 'pro', revision: 2 });
    assert.deepEqual(tenant.spec.config, { env: { MODE: 'debug' } });
    assert.equal(tenant.status.phase, 'ready');
    const pinned = await json<Tenant>('tenants', 'create', 'old', '--plan', 'pro@1');
    assert.deepEqual(pinned.spec.plan, { name: 'pro', revision: 1 });
    const moved = await json<Tenant>('tenants', 'patch', 'old', '--plan', 'pro@2');
    assert.deepEqual([moved.spec.plan, moved.generation], [{ name: 'pro', revision: 2 }, 2]);

    const outside = await operator('tenants', 'create', 'sneaky', '--plan', 'pro', '--image', 'evil:1');
    assert.equal(outside.code, 6, outside.stderr);
    assert.match(outside.stderr, /POLICY_VIOLATION/);
    assert.match(outside.stderr, /\/image/);
    const unknown = await admin('tenants', 'create', 'lost', '--plan', 'gold');
    assert.equal(unknown.code, 5, unknown.stderr);
    assert.match(unknown.stderr, /gold/);
    const badRef = await admin('tenants', 'create', 'bad', '--plan', 'pro@x');
    assert.equal(badRef.code, 2);
    for (const name of ['sneaky', 'lost', 'bad']) {
      assert.equal((await admin('tenants', 'get', name)).code, 3, `${name} was not stored`);
    }
    const fromFile = file('t.yaml', 'name: filed\nspec:\n  config:\n    env: {REGION: us}\n');
    const filed = await json<Tenant>('tenants', 'create', '-f', fromFile, '--plan', 'pro@1');
    assert.deepEqual(
      [filed.spec.plan, filed.spec.config],
      [{ name: 'pro', revision: 1 }, { env: { REGION: 'us' } }],
    );

    const used = await admin('plans', 'delete', 'pro');
    assert.equal(used.code, 4, 'a plan in use cannot be deleted');
    assert.match(used.stderr, /CONFLICT/);
  });

  test('--dry-run on create, patch, update, rollback and delete shows the change and stores nothing', async () => {
    const create = await admin('tenants', 'create', 'ghost', '--plan', 'pro', '--env', 'A=1', '--dry-run');
    assert.equal(create.code, 0, create.stderr);
    assert.match(create.stdout, /^tenant\/ghost created \(dry run\)\n--- \(none\)\n/);
    assert.match(create.stdout, /^\+plan:\n\+ {2}name: pro\n\+ {2}revision: 2$/m);
    assert.equal((await admin('tenants', 'get', 'ghost')).code, 3, 'a dry-run create stores nothing');

    const patch = await admin('tenants', 'patch', 'acme', '--env', 'MODE=quiet', '--dry-run');
    assert.equal(patch.code, 0, patch.stderr);
    assert.match(patch.stdout, /^tenant\/acme patched \(dry run\): generation 1 -> 2\n/);
    assert.match(patch.stdout, /^- {4}MODE: debug\n\+ {4}MODE: quiet$/m);
    const patchJson = await json<DryRunTenant>(
      'tenants',
      'patch',
      'acme',
      '--env',
      'MODE=quiet',
      '--dry-run',
    );
    assert.deepEqual(patchJson.diff, [{ op: 'replace', path: '/config/env/MODE', value: 'quiet' }]);
    const same = await admin('tenants', 'patch', 'acme', '--env', 'MODE=debug', '--dry-run');
    assert.equal(same.stdout, 'tenant/acme unchanged (dry run): generation 1\n');

    const spec = file('acme.yaml', 'spec:\n  plan: {name: pro}\n  config:\n    env: {MODE: loud}\n');
    const update = await admin('tenants', 'update', 'acme', '-f', spec, '--dry-run');
    assert.match(update.stdout, /^tenant\/acme updated \(dry run\): generation 1 -> 2\n/);
    assert.equal((await json<Tenant>('tenants', 'get', 'acme')).generation, 1, 'still generation 1');

    await admin('tenants', 'patch', 'acme', '--env', 'MODE=quiet', '--wait');
    const rollback = await admin('tenants', 'rollback', 'acme', '--to', '1', '--dry-run');
    assert.equal(rollback.code, 0, rollback.stderr);
    assert.match(
      rollback.stdout,
      /^tenant\/acme rolled back to generation 1 \(dry run\): generation 2 -> 3\n/,
    );
    assert.match(rollback.stdout, /^- {4}MODE: quiet\n\+ {4}MODE: debug$/m);
    const stale = await admin('tenants', 'rollback', 'acme', '--to', '1', '--dry-run', '--if-match', '1');
    assert.equal(stale.code, 4, 'a dry run checks If-Match too');

    const del = await admin('tenants', 'delete', 'acme', '--dry-run');
    assert.match(del.stdout, /^tenant\/acme deleted \(dry run\): ready -> deleting -> archived/);
    const delStale = await admin('tenants', 'delete', 'acme', '--dry-run', '--if-match', '999');
    assert.equal(delStale.code, 4);
    const delMissing = await admin('tenants', 'delete', 'nobody', '--dry-run');
    assert.equal(delMissing.code, 3);
    const withWait = await admin('tenants', 'delete', 'acme', '--dry-run', '--wait');
    assert.equal(withWait.code, 2);
    const tenant = await json<Tenant>('tenants', 'get', 'acme');
    assert.deepEqual([tenant.generation, tenant.status.phase], [2, 'ready'], 'no dry run changed acme');
  });

  test('tenants diff shows the change between generations, secrets by path only', async () => {
    await admin('tenants', 'patch', 'acme', '--secret-env', 'TOKEN=one', '--wait');
    await admin('tenants', 'patch', 'acme', '--secret-env', 'TOKEN=two', '--wait');
    const last = await admin('tenants', 'diff', 'acme');
    assert.equal(last.code, 0, last.stderr);
    assert.equal(
      last.stdout,
      '--- tenant/acme generation 3\n+++ tenant/acme generation 4\n~ /config/secretEnv/TOKEN: secret value changed\n',
    );
    const oneToTwo = await admin('tenants', 'diff', 'acme', '1', '2');
    assert.match(oneToTwo.stdout, /^--- tenant\/acme generation 1\n\+\+\+ tenant\/acme generation 2\n@@ /);
    assert.match(oneToTwo.stdout, /^- {4}MODE: debug\n\+ {4}MODE: quiet$/m);
    const flags = await json<SpecDiff>('tenants', 'diff', 'acme', '--generation', '3', '--against', '1');
    assert.deepEqual([flags.from, flags.to], [1, 3]);
    assert.deepEqual(
      flags.patch.map((op) => [op.op, op.path, op.value]),
      [
        ['replace', '/config/env/MODE', 'quiet'],
        ['add', '/config/secretEnv', { TOKEN: '***' }],
      ],
    );
    assert.doesNotMatch(JSON.stringify(flags), /one|two/, 'secret values never leave the server');
    const missing = await admin('tenants', 'diff', 'acme', '1', '42');
    assert.equal(missing.code, 3, missing.stderr);
    const mixed = await admin('tenants', 'diff', 'acme', '1', '--against', '2');
    assert.equal(mixed.code, 2);
  });

  test('plans delete removes an unused plan; --ignore-not-found', async () => {
    await admin(
      'plans',
      'apply',
      '-f',
      file('spare.yaml', 'kind: Plan\nname: spare\nspec: {provider: fake}\n'),
    );
    const deleted = await admin('plans', 'delete', 'spare');
    assert.equal(deleted.stdout, 'plan/spare deleted\n');
    assert.equal((await admin('plans', 'delete', 'spare')).code, 3);
    assert.equal((await admin('plans', 'delete', 'spare', '--ignore-not-found')).code, 0);
    const wrongKind = await admin(
      'plans',
      'apply',
      '-f',
      file('t2.yaml', 'kind: Tenant\nname: x\nspec: {}\n'),
    );
    assert.equal(wrongKind.code, 2);
    assert.match(wrongKind.stderr, /only Plan/);
  });
});
