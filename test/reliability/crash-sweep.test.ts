/**
 * Reliability (test/README.md): kill -9 of Lessor at random moments during a batch of provisions,
 * updates and deletes (the `process` provider: real OS processes), restarted each time. Afterwards:
 * every accepted request reached its terminal phase, no runtime is duplicated or orphaned (checked
 * against the OS, not Lessor's tables), every execution history is a valid path, callbacks were
 * applied once, and no tenant was created twice by the client's resends.
 *
 * Bounded by default (6 tenants, 2 crashes, per database, on the default engine);
 * `LESSOR_RELIABILITY_SCALE=N` runs 6·N tenants and N+1 crashes on every database × engine. `LESSOR_RELIABILITY_SEED` replays a run (the seed is printed).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { engines } from '../support/engines.js';
import { assertRuntimes, assertStoreInvariants } from '../support/invariants.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import {
  between,
  planScripts,
  runScript,
  seededRng,
  type SweepOutcome,
  type SweepStats,
} from '../support/sweep.js';
import { sleep, waitForPhase } from '../support/wait.js';

const SCALE = Math.max(1, Number(process.env.LESSOR_RELIABILITY_SCALE ?? 1) || 1);
const TENANTS = 6 * SCALE;
const CRASHES = SCALE + 1;

/** Bounded: the default engine on every database; scaled up: every database × engine combination. */
const COMBINATIONS = SCALE > 1 ? matrix() : matrix().filter((entry) => entry.engine === engines()[0]);

for (const { backend, engine, label } of COMBINATIONS) {
  describe(`crash sweep ${label}`, () => {
    const prefix = `rel-cs${randomBytes(3).toString('hex')}`;
    const seed = Number(process.env.LESSOR_RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;
    const stop = new AbortController();

    before(async () => {
      world = await processWorld();
      d = await deploy({ backend, engine, providers: { process: { stopGraceMs: 1_000 } } });
    });
    after(async () => {
      stop.abort();
      await d?.close();
      await world?.cleanup();
    });

    /** What the API, the process provider's records and the OS say about one tenant. */
    async function explain(tenantId: string, name: string): Promise<string> {
      const dir = join(d!.dataDir, 'process', name);
      const files = await readdir(dir).catch(() => [] as string[]);
      const records = await Promise.all(
        files
          .filter((f) => f.endsWith('.json'))
          .map(async (f) => `${f}: ${await readFile(join(dir, f), 'utf8')}`),
      );
      const executions = (await d!.client.tenantExecutions(tenantId)).items.map(
        (e) =>
          `${e.operation} g${e.generation} ${e.status}#${e.attempt} ${e.workflowRunId} ${JSON.stringify(e.resources)}`,
      );
      const tenant = await d!.client.getTenant(tenantId);
      const os = (await world!.runtimes()).get(tenantId) ?? [];
      return [
        `status: ${JSON.stringify(tenant.status)}`,
        `os process groups: ${JSON.stringify(os)}`,
        ...records,
        ...executions,
      ].join('\n');
    }

    test(`${label} ${TENANTS} tenants, ${CRASHES} kill -9 at random moments (seed ${seed})`, () =>
      withLogs(d, async () => {
        const started = Date.now();
        const rng = seededRng(seed);
        const scripts = planScripts(rng, prefix, TENANTS);
        const stats: SweepStats = { operations: 0, resent: 0, signal: stop.signal };
        const lessor = d!.lessor;

        const workload = Promise.all(
          scripts.map(async (script, i) => {
            await sleep(i * 150);
            return runScript(lessor.client, world!, script, stats);
          }),
        ).catch((error: unknown) => {
          stop.abort();
          throw error;
        });
        const crashes: number[] = [];
        for (let i = 0; i < CRASHES; i++) {
          await sleep(between(rng, 500, 3_500));
          crashes.push(Date.now() - started);
          await lessor.kill('SIGKILL');
          await lessor.restart();
        }
        const outcomes: SweepOutcome[] = await workload;

        for (const outcome of outcomes) {
          const settled = await waitForPhase(lessor.client, outcome.tenant.id, outcome.expectedPhase, {
            timeoutMs: 180_000,
            failOn: outcome.expectedPhase === 'ready' ? ['failed', 'archived'] : ['failed'],
          });
          if (outcome.expectedPhase === 'ready') {
            const url = settled.status.endpoints[0]!.url;
            const mode = await fetch(`${url}/cgi-bin/mode`).then(
              async (response) => (await response.text()).trim(),
              async (error: unknown) => {
                const why = `${outcome.script.name} is ready but ${url} does not answer (${String(error)})`;
                throw new Error(`${why}\n${await explain(settled.id, outcome.script.name)}`, {
                  cause: error,
                });
              },
            );
            assert.equal(mode, outcome.expectedMode, `${outcome.script.name} runs its last spec`);
          }
        }

        const listed = await lessor.client.listTenants({ q: prefix, includeArchived: true, limit: 500 });
        assert.equal(listed.items.length, scripts.length, 'no tenant was created twice by resent requests');
        const expected = new Map(
          outcomes.map((o) => [o.tenant.id, o.expectedPhase === 'ready' ? 1 : 0] as const),
        );
        assertRuntimes(await world!.runtimes(), expected);
        const figures = await assertStoreInvariants(d!.store, [...expected.keys()]);

        const ms = Date.now() - started;
        console.log(
          `reliability: crash-sweep ${label} seed=${seed} tenants=${scripts.length} operations=${stats.operations} ` +
            `resent=${stats.resent} crashes=${crashes.length} crashAtMs=${crashes.join(',')} executions=${figures.executions} ` +
            `historyRows=${figures.historyRows} callbacks=${figures.callbacks} runs=${figures.runs} durationMs=${ms}`,
        );
      }));
  });
}
