/**
 * Rollouts on real containers: a real `lessor serve` with the docker provider against Podman, on
 * each database (default engine). A rollout changes the env of a handful of tenants wave by wave and
 * every container then runs the new env; a rollout whose change breaks one tenant halts inside its
 * wave and rolls back, after which every container runs the old env again and no tenant of a later
 * wave was touched. What runs is asked of the container engine, never of Lessor.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Rollout, Tenant } from '../../src/api/types.js';
import type { JsonObject } from '../../src/domain/tenant.js';
import { matrix } from '../support/deployment.js';
import { containerEnv, containersByTenant, modeServerConfig } from '../support/docker-runtimes.js';
import { engines } from '../support/engines.js';
import { endpointText, podmanSuite } from '../support/podman-suite.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const READY_MS = 180_000;

/** The mode server, which exits at once when `$MODE` is `$BREAK_ON` (a change that breaks this tenant). */
function breakableConfig(mode: string, breakOn: string | null): JsonObject {
  const config = modeServerConfig(mode);
  if (breakOn === null) return config;
  const script = `[ "$MODE" = "$BREAK_ON" ] && exit 3; ${(config.command as string[])[2] ?? ''}`;
  return {
    ...config,
    command: ['sh', '-c', script],
    env: { MODE: mode, BREAK_ON: breakOn },
    healthCheck: { type: 'http', port: 8080, path: '/', intervalMs: 100, timeoutMs: 1000, retries: 30 },
  };
}

for (const { backend, engine, label } of matrix().filter((entry) => entry.engine === engines()[0])) {
  describe(`rollouts on docker ${label}`, () => {
    const suite = podmanSuite({ backend, engine }, { tag: 'ro' });
    const { prefix } = suite;

    async function fleet(group: string, count: number, breaking: readonly number[] = []): Promise<Tenant[]> {
      const made: Tenant[] = [];
      for (let i = 0; i < count; i++) {
        const config = breakableConfig('one', breaking.includes(i) ? 'two' : null);
        made.push(
          await suite.deployment.client.createTenant({
            name: `${prefix}-${group}-${i}`,
            spec: { config, labels: { group } },
          }),
        );
      }
      for (const tenant of made)
        await waitForPhase(suite.deployment.client, tenant.id, 'ready', {
          timeoutMs: READY_MS,
          failOn: ['failed'],
        });
      return made;
    }

    const finished = (id: string) =>
      waitFor(
        `rollout ${id} to finish`,
        async () => {
          const rollout = await suite.deployment.client.getRollout(id);
          return ['succeeded', 'halted', 'rolledBack', 'aborted'].includes(rollout.status.phase) && rollout;
        },
        { timeoutMs: READY_MS * 2, intervalMs: 250 },
      );

    /** Each tenant has exactly one running container, with `MODE=<mode>`, answering `<mode>`. */
    async function assertRunning(tenants: readonly Tenant[], mode: string): Promise<void> {
      const containers = await containersByTenant(prefix);
      for (const tenant of tenants) {
        const mine = containers.get(tenant.id) ?? [];
        assert.equal(mine.length, 1, `${tenant.name}: ${JSON.stringify(mine)}`);
        assert.equal(mine[0]!.state, 'running', tenant.name);
        assert.equal((await containerEnv(mine[0]!.id)).MODE, mode, `${tenant.name} runs MODE=${mode}`);
        const now = await suite.deployment.client.getTenant(tenant.id);
        assert.equal(
          await endpointText(now.status.endpoints[0]!.url),
          mode,
          `${tenant.name} answers ${mode}`,
        );
      }
    }

    function assertWaveOrder(rollout: Rollout): void {
      const { waves } = rollout.status;
      for (let w = 1; w < waves.length; w++) {
        if (waves[w]!.startedAt === null) continue;
        const started = Date.parse(waves[w]!.startedAt!);
        assert.ok(started >= Date.parse(waves[w - 1]!.finishedAt ?? ''), `wave ${w} after wave ${w - 1}`);
      }
    }

    test(`${label} a rollout changes the env of every container, wave by wave`, () =>
      suite.run(async () => {
        const tenants = await fleet('ok', 4);
        await assertRunning(tenants, 'one');
        const created = await suite.deployment.client.createRollout({
          description: 'MODE two',
          selector: { labels: 'group=ok', names: tenants.map((t) => t.name) },
          change: { patch: { config: { env: { MODE: 'two' } } } },
          strategy: { waves: [1, '50%', '100%'], maxParallel: 2, minHealthyMs: 500 },
          failurePolicy: { maxFailed: 0, onHalt: 'rollback' },
        });
        const done = await finished(created.id);
        assert.equal(done.status.phase, 'succeeded', JSON.stringify(done.status));
        assert.equal(done.status.counts.succeeded, 4);
        assertWaveOrder(done);
        await assertRunning(tenants, 'two');
        for (const tenant of tenants)
          assert.equal((await suite.deployment.client.getTenant(tenant.id)).generation, 2);
      }));

    test(`${label} a change that breaks a tenant halts inside its wave and every changed container goes back`, () =>
      suite.run(async () => {
        // Wave 0: tenant 0; wave 1: tenants 1-2 (2 breaks on MODE=two); wave 2: tenants 3-5.
        const tenants = await fleet('halt', 6, [2]);
        await assertRunning(tenants, 'one');
        const created = await suite.deployment.client.createRollout({
          description: 'MODE two, one breaks',
          selector: { names: tenants.map((t) => t.name) },
          change: { patch: { config: { env: { MODE: 'two' } } } },
          strategy: { waves: [1, 3, '100%'], maxParallel: 1, progressDeadlineMs: 60_000 },
          failurePolicy: { maxFailed: 0, onHalt: 'rollback' },
        });
        const done = await finished(created.id);
        assert.equal(done.status.phase, 'rolledBack', JSON.stringify(done.status));
        assert.match(done.status.haltReason ?? '', /fail/i);
        assert.equal(done.status.waves[2]!.pending, 3, 'no tenant of the later wave started');
        const members = (await suite.deployment.client.rolloutTenants(created.id, { limit: 50 })).items;
        const changed = members.filter((m) => m.toGeneration !== null);
        assert.deepEqual(
          changed.map((m) => m.tenant),
          tenants.slice(0, 3).map((t) => t.name),
        );
        for (const member of changed) {
          assert.equal(member.state, 'rolledBack', `${member.tenant}: ${JSON.stringify(member)}`);
          assert.equal(member.rollbackGeneration, 3);
        }
        // Every container runs the old env again (the broken tenant recovered by the rollback).
        for (const tenant of tenants.slice(0, 3)) {
          await waitForPhase(suite.deployment.client, tenant.id, 'ready', {
            generation: 3,
            timeoutMs: READY_MS,
          });
        }
        await assertRunning(tenants, 'one');
        for (const tenant of tenants.slice(3))
          assert.equal(
            (await suite.deployment.client.getTenant(tenant.id)).generation,
            1,
            `${tenant.name} untouched`,
          );
      }));
  });
}
