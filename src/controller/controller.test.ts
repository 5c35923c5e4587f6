/**
 * The controller's periodic passes against in-memory collaborators: which tenants a drift pass
 * describes one by one, and which store query each pass pages through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../domain/logger.js';
import { tenantRunFixture } from '../domain/testing/tenant-run-fixture.js';
import type { TenantSummary } from '../store/store.js';
import { Controller, type ControllerDeps } from './controller.js';

const summary = (id: string, provider: string, overrides: Partial<TenantSummary> = {}): TenantSummary => ({
  id,
  provider,
  phase: 'ready',
  generation: 1,
  observedGeneration: 1,
  paused: false,
  ...overrides,
});

/**
 * `listRunning` answers per provider: a set, null (cannot list) or an Error (listing failed).
 * Tests may change `listings` and `log.seq` (the event log's head) between passes.
 */
function harness(
  tenants: readonly TenantSummary[],
  listings: Record<string, ReadonlySet<string> | null | Error>,
) {
  const log = { seq: 1 };
  const described: string[] = [];
  const reconciled: { tenantId: string; ended: string | undefined }[] = [];
  const queries: string[] = [];
  const listed: string[] = [];
  const page = (afterId: string | null, limit: number) =>
    Promise.resolve(tenants.filter((t) => afterId === null || t.id > afterId).slice(0, limit));
  const deps: ControllerDeps = {
    tenants: {
      listSummaries: (afterId, limit, scope) => {
        queries.push(`summaries:${scope ?? 'all'}`);
        return page(afterId, limit);
      },
      listReady: (afterId, limit) => {
        queries.push('ready');
        return page(afterId, limit);
      },
    },
    events: { latestSeq: () => Promise.resolve(log.seq) },
    reconciler: {
      reconcile: (tenantId, _source, _trace, ended) => {
        reconciled.push({ tenantId, ended: ended?.runId });
        return Promise.resolve();
      },
      repairDrift: (tenantId) => {
        described.push(tenantId);
        return Promise.resolve(tenantId.endsWith('dead'));
      },
    },
    compute: {
      listRunning: (provider) => {
        listed.push(provider);
        const answer = listings[provider];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer ?? null);
      },
    },
    logger: silentLogger,
  };
  const controller = new Controller(deps, {
    workers: 1,
    resyncIntervalMs: 60_000,
    driftIntervalMs: 60_000,
    reconcileTimeoutMs: 1_000,
    rateLimitPerSecond: 100,
  });
  return { controller, described, queries, listed, log, reconciled };
}

describe('controller drift pass', () => {
  test('describes only the tenants the provider does not list as running, asking it once', async () => {
    const { controller, described, queries, listed } = harness(
      [summary('a1', 'fake'), summary('a2-dead', 'fake'), summary('a3', 'fake'), summary('a4-dead', 'fake')],
      { fake: new Set(['a1', 'a3']) },
    );
    assert.equal(await controller.checkDrift(), 2);
    assert.deepEqual(described, ['a2-dead', 'a4-dead']);
    assert.deepEqual(listed, ['fake']);
    assert.deepEqual(queries, ['ready']);
  });

  test('a provider that cannot list, or whose listing fails, gets every tenant described', async () => {
    const { controller, described, listed } = harness(
      [summary('b1', 'process'), summary('b2', 'docker'), summary('b3', 'fake'), summary('b4', 'process')],
      { process: null, docker: new Error('socket closed'), fake: new Set(['b3']) },
    );
    await controller.checkDrift();
    assert.deepEqual(described, ['b1', 'b2', 'b4']);
    assert.deepEqual(listed.sort(), ['docker', 'fake', 'process']);
  });

  test('after a pass that described nobody, a pass with no change reads no tenant', async () => {
    const { controller, described, queries, listed } = harness(
      [summary('c1', 'fake'), summary('c2', 'docker')],
      { fake: new Set(['c1']), docker: new Set(['c2', 'elsewhere']) },
    );
    assert.equal(await controller.checkDrift(), 0);
    assert.equal(await controller.checkDrift(), 0);
    assert.deepEqual(queries, ['ready'], 'the second pass did not page through the store');
    assert.deepEqual(listed.sort(), ['docker', 'docker', 'fake', 'fake'], 'but asked the engines again');
    assert.deepEqual(described, []);
  });

  test('a changed listing or a moved event-log head makes the next pass a full one', async () => {
    const fake = new Set(['d1', 'd2-dead']);
    const { controller, described, queries, log } = harness(
      [summary('d1', 'fake'), summary('d2-dead', 'fake')],
      {
        fake,
      },
    );
    await controller.checkDrift();
    log.seq = 2; // e.g. a tenant became ready, or was paused
    await controller.checkDrift();
    assert.deepEqual(queries, ['ready', 'ready']);
    fake.delete('d2-dead'); // its runtime died out of band
    assert.equal(await controller.checkDrift(), 1);
    assert.deepEqual(queries, ['ready', 'ready', 'ready']);
    assert.deepEqual(described, ['d2-dead']);
  });

  test('a pass that had to describe a tenant is never taken as clean', async () => {
    const { controller, described, queries } = harness([summary('e1', 'process')], { process: null });
    await controller.checkDrift();
    await controller.checkDrift();
    assert.deepEqual(queries, ['ready', 'ready']);
    assert.deepEqual(described, ['e1', 'e1']);
  });
});

describe('controller resync pass', () => {
  test('asks the store for unsettled tenants only', async () => {
    const { controller, queries } = harness([summary('d1', 'fake', { phase: 'provisioning' })], {});
    assert.equal(await controller.resync(), 1);
    assert.deepEqual(queries, ['summaries:unsettled']);
    await controller.stop(0);
  });
});

describe('controller wake-ups', () => {
  test('a run that ended goes along with its reconcile, once; other wake-ups carry none', async () => {
    const { controller, reconciled } = harness([], {});
    await controller.start();
    const ended = tenantRunFixture({
      tenantId: 'f1',
      action: 'provision',
      generation: 1,
      state: 'succeeded',
      triggerSource: 'api',
      finishedAt: '2026-01-01T00:00:00.000Z',
    });
    controller.runEnded(ended);
    await controller.whenIdle();
    controller.enqueue('f1', 'api');
    await controller.whenIdle();
    await controller.stop(0);
    assert.deepEqual(reconciled, [
      { tenantId: 'f1', ended: 'f1:provision:g1' },
      { tenantId: 'f1', ended: undefined },
    ]);
  });
});
