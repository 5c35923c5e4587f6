/**
 * The controller's periodic passes against in-memory collaborators: which tenants a drift pass
 * describes one by one, and which store query each pass pages through.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../domain/logger.js';
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

/** `listRunning` answers per provider: a set, null (cannot list) or an Error (listing failed). */
function harness(
  tenants: readonly TenantSummary[],
  listings: Record<string, ReadonlySet<string> | null | Error>,
) {
  const described: string[] = [];
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
    reconciler: {
      reconcile: () => Promise.resolve(),
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
  return { controller, described, queries, listed };
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
});

describe('controller resync pass', () => {
  test('asks the store for unsettled tenants only', async () => {
    const { controller, queries } = harness([summary('d1', 'fake', { phase: 'provisioning' })], {});
    assert.equal(await controller.resync(), 1);
    assert.deepEqual(queries, ['summaries:unsettled']);
    await controller.stop(0);
  });
});
