/**
 * Reliability (test/README.md): kill -9 of Lessor at random moments of a fleet rollout over tenants
 * of the `process` provider (real OS processes), restarted each time. Afterwards the rollout has
 * finished by itself, every member exactly once: each tenant was changed by the rollout once (one
 * generation bump, one `SpecChanged` by the rollout), runs its new config, has exactly one runtime
 * (checked against the OS, not Lessor's tables), and no wave started before the one before it settled.
 *
 * Bounded by default (10 tenants, 2 crashes, per database, on the default engine);
 * `LESSOR_RELIABILITY_SCALE=N` (N > 1) runs 300 tenants and N+2 crashes on every database × engine.
 * `LESSOR_RELIABILITY_SEED` replays a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Rollout, Tenant } from '../../src/api/types.js';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { engines } from '../support/engines.js';
import { assertRuntimes, assertStoreInvariants } from '../support/invariants.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { between, seededRng } from '../support/sweep.js';
import { sleep, waitFor, waitForPhase } from '../support/wait.js';

const SCALE = Math.max(1, Number(process.env.LESSOR_RELIABILITY_SCALE ?? 1) || 1);
const TENANTS = SCALE > 1 ? 300 : 10;
const CRASHES = SCALE > 1 ? SCALE + 2 : 2;
const MAX_PARALLEL = SCALE > 1 ? 25 : 3;
const SETTLE_MS = SCALE > 1 ? 900_000 : 240_000;

/** Bounded: the default engine on every database; scaled up: every database × engine combination. */
const COMBINATIONS = SCALE > 1 ? matrix() : matrix().filter((entry) => entry.engine === engines()[0]);

const FINAL = ['succeeded', 'aborted', 'rolledBack', 'halted'];

/** Runs `body` over `items`, `width` at a time. */
async function inBatches<T>(
  items: readonly T[],
  width: number,
  body: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(body));
}

for (const { backend, engine, label } of COMBINATIONS) {
  describe(`rollout crash sweep ${label}`, () => {
    const group = `rel-ro${randomBytes(3).toString('hex')}`;
    const seed = Number(process.env.LESSOR_RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;

    before(async () => {
      world = await processWorld();
      d = await deploy({ backend, engine, providers: { process: { stopGraceMs: 1_000 } } });
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
    });

    test(`${label} a rollout over ${TENANTS} tenants, ${CRASHES} kill -9 at random moments (seed ${seed})`, () =>
      withLogs(d, async () => {
        const rng = seededRng(seed);
        const lessor = d!.lessor;
        const tenants: Tenant[] = [];
        for (let i = 0; i < TENANTS; i++) {
          const name = `${group}-${String(i).padStart(3, '0')}`;
          const spec = { config: world!.config({ mode: 'one' }), labels: { group } };
          tenants.push(await lessor.client.createTenant({ name, spec }));
        }
        await inBatches(tenants, 25, async (t) => {
          await waitForPhase(lessor.client, t.id, 'ready', { timeoutMs: SETTLE_MS, failOn: ['failed'] });
        });

        const started = Date.now();
        const created = await lessor.client.createRollout({
          description: `${group}: mode two`,
          selector: { labels: `group=${group}` },
          change: { patch: { config: { env: { MODE: 'two' } } } },
          strategy: { waves: [1, '10%', '50%', '100%'], maxParallel: MAX_PARALLEL, minHealthyMs: 100 },
          failurePolicy: { maxFailed: 0, onHalt: 'pause' },
        });
        const current = () => lessor.client.getRollout(created.id);
        // The first kill once a member has settled (the rollout is surely under way), the others at
        // random moments after each restart, while the rollout is unfinished.
        await waitFor('a member settled', async () => (await current()).status.counts.succeeded >= 1, {
          timeoutMs: SETTLE_MS,
        });
        const crashes: { atMs: number; phase: string; succeeded: number }[] = [];
        for (let i = 0; i < CRASHES; i++) {
          if (i > 0) await sleep(between(rng, 200, 2_500));
          const before = await current();
          if (FINAL.includes(before.status.phase)) break;
          crashes.push({
            atMs: Date.now() - started,
            phase: before.status.phase,
            succeeded: before.status.counts.succeeded,
          });
          await lessor.kill('SIGKILL');
          await lessor.restart();
        }
        const done = await waitFor(
          'the rollout to finish',
          async () => {
            const rollout = await current();
            return FINAL.includes(rollout.status.phase) && rollout;
          },
          { timeoutMs: SETTLE_MS, intervalMs: 250 },
        );
        const ms = Date.now() - started;
        assert.equal(done.status.phase, 'succeeded', JSON.stringify(done.status));
        assert.deepEqual(done.status.counts, {
          total: TENANTS,
          pending: 0,
          inProgress: 0,
          succeeded: TENANTS,
          failed: 0,
          skipped: 0,
          rolledBack: 0,
        });
        assertWaveOrder(done);

        let cursor: string | undefined;
        const members = [];
        do {
          const page = await lessor.client.rolloutTenants(created.id, { limit: 500, cursor });
          members.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.equal(members.length, TENANTS);
        for (const m of members) {
          assert.deepEqual([m.state, m.fromGeneration, m.toGeneration], ['succeeded', 1, 2], m.tenant);
        }

        // Exactly once per member: one generation bump and one spec change by the rollout, from the
        // database (never through the server), and the new config running in one runtime.
        for (const tenant of tenants) {
          const now = await d!.store.tenants.get(tenant.id);
          assert.equal(now?.generation, 2, `${tenant.name} changed once`);
          assert.equal(now?.status.phase, 'ready', tenant.name);
          const events = await d!.store.events.listByTenant(tenant.id, { limit: 1_000 });
          const changes = events.filter(
            (e) => e.type === 'SpecChanged' && e.actor === `rollout:${created.id}`,
          );
          assert.equal(changes.length, 1, `${tenant.name}: ${changes.length} changes by the rollout`);
        }
        await inBatches(tenants, 10, async (tenant) => {
          const now = await lessor.client.getTenant(tenant.id);
          const mode = await fetch(`${now.status.endpoints[0]!.url}/cgi-bin/mode`).then(async (r) =>
            (await r.text()).trim(),
          );
          assert.equal(mode, 'two', `${tenant.name} runs the rollout's config`);
        });
        assertRuntimes(await world!.runtimes(), new Map(tenants.map((t) => [t.id, 1 as const])));
        const figures = await assertStoreInvariants(
          d!.store,
          tenants.map((t) => t.id),
        );
        console.log(
          `reliability: rollout-crash-sweep ${label} seed=${seed} tenants=${TENANTS} crashes=${crashes.length} ` +
            `crashAt=${crashes.map((c) => `${c.atMs}ms/${c.phase}/${c.succeeded}ok`).join(',')} ` +
            `executions=${figures.executions} runs=${figures.runs} rolloutMs=${ms}`,
        );
        assert.ok(crashes.length >= 1, 'the server was killed during the rollout at least once');
      }));
  });
}

/** Wave k started only once wave k-1 had settled. */
function assertWaveOrder(rollout: Rollout): void {
  const { waves } = rollout.status;
  for (let w = 1; w < waves.length; w++) {
    if (waves[w]!.size === 0) continue;
    const started = Date.parse(waves[w]!.startedAt ?? '');
    const previous = Date.parse(waves[w - 1]!.finishedAt ?? '');
    assert.ok(started >= previous, `wave ${w} started after wave ${w - 1} settled`);
  }
}
