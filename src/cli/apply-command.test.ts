/**
 * `lessor apply -f` against a whole Lessor in this process (real API, SQLite, embedded engine,
 * fake provider): plans before tenants, create-or-update by name, idempotent re-apply, dry runs,
 * and a bad file refused before anything is sent.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Plan, Tenant } from '../api/types.js';
import { runInProcess } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

// Tenants first in the file: apply still creates the plan they use before them.
const STACK = `kind: Tenant
name: shop
spec:
  plan: {name: basic}
  config:
    env: {MODE: prod}
---
kind: Tenant
name: raw
spec:
  provider: fake
  config: {image: raw:1}
  labels: {team: core}
---
kind: Plan
name: basic
description: Basic tier
spec:
  provider: fake
  config: {image: shop:1}
allowedOverrides: [/env]
`;

describe('lessor apply', () => {
  let api: TestLessor;
  let dir: string;
  const lessor = (...args: string[]) => runInProcess(args, { LESSOR_URL: api.url });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const generations = async () =>
    Promise.all(['shop', 'raw'].map(async (n) => (await api.store.tenants.get(n))?.generation));

  before(async () => {
    api = await startTestLessor();
    dir = mkdtempSync(join(tmpdir(), 'lessor-apply-'));
  });
  after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a bad document refuses the whole file before anything is sent', async () => {
    const cases = [
      { reason: 'no kind', text: 'name: a\nspec: {}\n', message: /document 2\): kind is required/ },
      {
        reason: 'unknown kind',
        text: 'kind: Rollout\nname: a\nspec: {}\n',
        message: /unknown kind "Rollout"/,
      },
      { reason: 'unknown field', text: 'kind: Tenant\nname: a\nspec: {}\nextra: 1\n', message: /extra/ },
      { reason: 'duplicate', text: 'kind: Plan\nname: basic\nspec: {}\n', message: /Plan\/basic is also in/ },
      { reason: 'not YAML', text: 'kind: [unclosed\n', message: /neither JSON nor YAML/ },
    ];
    for (const c of cases) {
      const first =
        c.reason === 'duplicate' ? 'kind: Plan\nname: basic\nspec: {}\n' : 'kind: Plan\nname: ok\nspec: {}\n';
      const result = await lessor('apply', '-f', write('bad.yaml', `${first}---\n${c.text}`));
      assert.equal(result.code, 2, `${c.reason}: ${result.stderr}`);
      assert.match(result.stderr, c.message, c.reason);
    }
    assert.equal(await api.store.plans.get('ok'), undefined, 'no document of a bad file was applied');
  });

  test('the dry run of a new stack checks every plan and notes tenants of plans not there yet', async () => {
    const result = await lessor('apply', '-f', write('stack.yaml', STACK), '--dry-run');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n').filter((l) => /^(plan|tenant)\//.test(l));
    assert.deepEqual(lines, [
      'plan/basic created (revision 1) (dry run)',
      'tenant/shop created (dry run; not checked: plan basic is created by this apply)',
      'tenant/raw created (dry run)',
    ]);
    assert.match(result.stdout, /^\+ {2}image: raw:1$/m, 'the would-be spec is shown');
    assert.equal(await api.store.plans.get('basic'), undefined);
    assert.deepEqual(await generations(), [undefined, undefined], 'a dry run creates nothing');
  });

  test('applies plans first, then tenants; re-applying the same file changes nothing', async () => {
    const file = write('stack.yaml', STACK);
    const first = await lessor('apply', '-f', file);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'plan/basic created (revision 1)\ntenant/shop created\ntenant/raw created\n');
    const shop = await api.store.tenants.get('shop');
    assert.deepEqual(shop?.spec.plan, { name: 'basic', revision: 1 });
    const again = await lessor('apply', '-f', file);
    assert.equal(
      again.stdout,
      'plan/basic unchanged (revision 1)\ntenant/shop unchanged (generation 1)\ntenant/raw unchanged (generation 1)\n',
    );
    assert.deepEqual(await generations(), [1, 1], 'no new generation');
    assert.equal((await api.store.plans.get('basic'))?.revision, 1, 'no new plan revision');
  });

  test('a changed file updates what changed; its dry run shows the diff first', async () => {
    const changed = write(
      'stack2.yaml',
      STACK.replace('MODE: prod', 'MODE: debug').replace('image: shop:1', 'image: shop:2'),
    );
    const preview = await lessor('apply', '-f', changed, '--dry-run');
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /^plan\/basic configured \(revision 1 -> 2\) \(dry run\)$/m);
    assert.match(preview.stdout, /^tenant\/shop configured \(generation 1 -> 2\) \(dry run\)$/m);
    assert.match(preview.stdout, /^- {4}MODE: prod\n\+ {4}MODE: debug$/m);
    assert.match(preview.stdout, /^tenant\/raw unchanged \(generation 1\) \(dry run\)$/m);
    assert.deepEqual(await generations(), [1, 1]);

    const applied = await lessor('apply', '-f', changed, '-o', 'json');
    assert.equal(applied.code, 0, applied.stderr);
    const { items } = JSON.parse(applied.stdout) as {
      items: { kind: string; name: string; action: string; object: Plan | Tenant }[];
    };
    assert.deepEqual(
      items.map((i) => [i.kind, i.name, i.action]),
      [
        ['Plan', 'basic', 'configured'],
        ['Tenant', 'shop', 'configured'],
        ['Tenant', 'raw', 'unchanged'],
      ],
    );
    assert.deepEqual(await generations(), [2, 1]);
    const shop = await api.store.tenants.get('shop');
    assert.deepEqual(shop?.spec.plan, { name: 'basic', revision: 1 }, 'a plan change never moves a tenant');
  });

  test('the first failure stops the apply with its exit code; what came before stays applied', async () => {
    const text = `kind: Plan
name: extra
spec: {provider: fake}
---
kind: Tenant
name: broken
spec:
  plan: {name: missing-plan}
---
kind: Tenant
name: after-broken
spec: {provider: fake}
`;
    const result = await lessor('apply', '-f', write('broken.yaml', text));
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /missing-plan/);
    assert.equal(result.stdout, 'plan/extra created (revision 1)\n');
    assert.equal(await api.store.tenants.get('after-broken'), undefined);
  });
});
