/**
 * `lessor rollouts …` run in-process against a real Lessor started in this process (SQLite file,
 * embedded engine, fake provider): create with flags (and its dry run), get, list, tenants,
 * commands, and `watch`, whose exit code says how the rollout ended — 0 succeeded, 11 rolled back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Rollout, RolloutDryRun, Tenant } from '../api/types.js';
import { ExitCode } from './exit-codes.js';
import { parseWaves, rolloutRequest } from './rollouts-commands.js';
import { runInProcess } from './testing/run-cli.js';
import { startTestLessor, type TestLessor } from './testing/test-lessor.js';

describe('lessor rollouts (real server in process)', () => {
  let app: TestLessor;
  const lessor = (...args: string[]) => runInProcess(args, { LESSOR_URL: app.url });
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await lessor(...args, '-o', 'json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };

  /** `lessor rollouts create -o json` setting `app:2` on `group=<group>` in waves `1,100%`, and `flags`. */
  const createRollout = <T>(group: string, ...flags: string[]) =>
    json<T>(
      'rollouts',
      'create',
      '--selector',
      `group=${group}`,
      '--set-image',
      'app:2',
      '--waves',
      '1,100%',
      ...flags,
    );

  async function fleet(group: string, count: number, failing: readonly number[] = []): Promise<void> {
    for (let i = 0; i < count; i++) {
      const faults = failing.includes(i)
        ? ['--config-json', '{"faults":{"nonRetriable":true,"failOperations":["update"]}}']
        : [];
      const tenant = await json<Tenant>(
        'tenants',
        'create',
        `${group}-${i}`,
        '--image',
        'app:1',
        '--label',
        `group=${group}`,
        ...faults,
        '--wait',
      );
      assert.equal(tenant.status.phase, 'ready');
    }
  }

  before(async () => {
    app = await startTestLessor();
  });
  after(() => app?.close());

  test('flags build the request; bad flags are usage errors', () => {
    assert.deepEqual(parseWaves('1,10%,100%'), [1, '10%', '100%']);
    assert.throws(() => parseWaves('1,ten'), /neither a count nor a percent/);
    const request = rolloutRequest({
      selector: 'plan=pro',
      setImage: 'app:2.5',
      waves: '1,10%,100%',
      maxParallel: 50,
      maxFailed: '5%',
      onHalt: 'rollback',
      pauseAfter: '1',
    });
    assert.deepEqual(request, {
      selector: { labels: 'plan=pro' },
      change: { patch: { config: { image: 'app:2.5' } } },
      strategy: { waves: [1, '10%', '100%'], maxParallel: 50, pauseAfterWaves: [0] },
      failurePolicy: { onHalt: 'rollback', maxFailedPercent: 5 },
    });
    assert.throws(
      () => rolloutRequest({ selector: 'a=b', waves: '100%' }),
      /exactly one of --set-image, --patch-file and --plan-revision/,
    );
    assert.throws(() => rolloutRequest({ setImage: 'x', waves: '100%' }), /--selector, --names or --plan/);
    assert.throws(
      () => rolloutRequest({ selector: 'a=b', setImage: 'x', planRevision: 2, waves: '100%' }),
      /exactly one of/,
    );
    assert.deepEqual(rolloutRequest({ plan: 'pro', planRevision: 4, waves: '100%' }), {
      selector: { plan: 'pro' },
      change: { planRevision: 4 },
      strategy: { waves: ['100%'] },
      failurePolicy: {},
    });
  });

  test('create, dry run, get, list, tenants, then watch exits 0 once succeeded', async () => {
    await fleet('cliok', 4);
    const plan = await createRollout<RolloutDryRun>('cliok', '--dry-run');
    assert.deepEqual(
      plan.waves.map((w) => w.size),
      [1, 3],
    );
    const created = await createRollout<Rollout>('cliok', '--max-parallel', '2');
    const watched = await lessor('rollouts', 'watch', created.id);
    assert.equal(watched.code, ExitCode.OK, watched.stderr);
    assert.match(watched.stdout, /wave 1 \[#+\] 1\/1/);
    assert.match(watched.stdout, /wave 2 \[#+\] 3\/3/);
    const got = await json<Rollout>('rollouts', 'get', created.id);
    assert.equal(got.status.phase, 'succeeded');
    const list = await lessor('rollouts', 'list');
    assert.match(list.stdout, new RegExp(`${created.id}\\s+succeeded`));
    const tenants = await lessor('rollouts', 'tenants', created.id, '--state', 'succeeded');
    assert.equal(tenants.stdout.trim().split('\n').length, 5, tenants.stdout);
    const again = await lessor('rollouts', 'pause', created.id);
    assert.equal(again.code, ExitCode.CONFLICT, 'a succeeded rollout cannot be paused');
  });

  test('watch exits 11 when failures halt the rollout and it rolls back', async () => {
    await fleet('clibad', 4, [1, 2]);
    const created = await createRollout<Rollout>(
      'clibad',
      '--max-parallel',
      '1',
      '--max-failed',
      '1',
      '--on-halt',
      'rollback',
    );
    const watched = await lessor('rollouts', 'watch', created.id);
    assert.equal(watched.code, ExitCode.ROLLOUT_ROLLED_BACK, `${watched.stdout}\n${watched.stderr}`);
    assert.match(watched.stdout, /rolledBack/);
    const missing = await lessor('rollouts', 'get', '01938f40-1a2b-7c3d-9e4f-5a6b7c8d9e0f');
    assert.equal(missing.code, ExitCode.NOT_FOUND);
  });
});
