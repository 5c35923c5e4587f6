/**
 * Reliability (test/README.md): PostgreSQL restarted during work (a clean stop, then a crash with
 * `-m immediate`; `LESSOR_RELIABILITY_SCALE=N` repeats both N times). While it is down the API
 * answers 503 — `/readyz` and writes alike, never another 5xx — and the server stays up; nothing
 * acknowledged (201) is lost; work resumes and every acknowledged tenant reaches ready. Uses a private PostgreSQL cluster (support/private-postgres.ts)
 * so the shared server other suites use is never restarted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../src/api/client.js';
import { createStore } from '../../src/store/create-store.js';
import { engines } from '../support/engines.js';
import { assertStoreInvariants } from '../support/invariants.js';
import { startLessorProcess, tail, type LessorProcess } from '../support/lessor-process.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { sleep, waitFor, waitForPhase } from '../support/wait.js';

const DOWN_MS = 3_000;
const SCALE = Math.max(1, Number(process.env.LESSOR_RELIABILITY_SCALE ?? 1) || 1);
/** A clean stop and a crash (`-m immediate`), repeated SCALE times. */
const OUTAGES = Array.from({ length: SCALE }, () => ['fast', 'immediate'] as const).flat();

describe('PostgreSQL restarted during work', () => {
  const prefix = `rel-pg${randomBytes(3).toString('hex')}`;
  let pg: PrivatePostgres | undefined;
  let lessor: LessorProcess | undefined;
  let engineCleanup: (() => Promise<void>) | undefined;

  before(async () => {
    pg = await startPrivatePostgres();
    const engine = await engines()[0]!.setup();
    engineCleanup = () => engine.cleanup();
    lessor = await startLessorProcess({
      databaseUrl: pg.url,
      providers: { fake: { latencyMs: 200 } },
      env: { ...engine.env, LESSOR_COMPUTE__DEFAULT_PROVIDER: 'fake', LESSOR_DATABASE__POOL_SIZE: '5' },
    });
  });
  after(async () => {
    await lessor?.kill('SIGKILL');
    await engineCleanup?.();
    await pg?.destroy();
  });

  test('503 while down, nothing acknowledged lost, work resumes', async () => {
    const client = lessor!.client;
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let seq = 0;
    const createOne = async (): Promise<void> => {
      const name = `${prefix}-t${seq++}`;
      try {
        acknowledged.push((await client.createTenant({ name, spec: { config: {} } })).id);
        statuses.set(201, (statuses.get(201) ?? 0) + 1);
      } catch (error) {
        const status = error instanceof ApiError ? error.status : 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    };
    try {
      for (let i = 0; i < 4; i++) await createOne();
      let downMs = 0;
      for (const mode of OUTAGES) {
        let writing = true;
        const writer = (async () => {
          while (writing) {
            await createOne();
            await sleep(50);
          }
        })();
        await sleep(300);
        const downAt = Date.now();
        await pg!.stop(mode);
        await waitFor(
          '/readyz to answer 503',
          async () => (await fetch(`${lessor!.url}/readyz`)).status === 503,
          { timeoutMs: 15_000 },
        );
        const read = await client.getTenant(acknowledged[0]!).then(
          () => 200,
          (error: unknown) => (error instanceof ApiError ? error.status : 0),
        );
        assert.equal(read, 503, 'a read while the database is down');
        await sleep(DOWN_MS);
        assert.ok(lessor!.running(), 'the server survives the database outage');
        await pg!.start();
        downMs += Date.now() - downAt;
        await waitFor('/readyz to answer 200 again', async () => (await fetch(`${lessor!.url}/readyz`)).ok, {
          timeoutMs: 60_000,
          intervalMs: 100,
        });
        writing = false;
        await writer;
      }
      for (let i = 0; i < 2; i++) await createOne();

      const unexpected = [...statuses.keys()].filter((s) => s !== 201 && s !== 503);
      assert.deepEqual(unexpected, [], `only 201 or 503 answers: ${JSON.stringify([...statuses])}`);
      assert.ok(
        (statuses.get(503) ?? 0) > 0,
        'some writes were refused with 503 while the database was down',
      );
      for (const id of acknowledged)
        await waitForPhase(client, id, 'ready', { timeoutMs: 90_000, failOn: ['failed'] });
      const listed = await client.listTenants({ q: prefix, limit: 500 });
      const listedIds = new Set(listed.items.map((t) => t.id));
      assert.deepEqual(
        acknowledged.filter((id) => !listedIds.has(id)),
        [],
        'acknowledged tenants missing',
      );

      const store = await createStore({ url: pg!.url });
      try {
        const figures = await assertStoreInvariants(store, acknowledged);
        console.log(
          `reliability: postgres-restart restarts=${OUTAGES.length} requests=${seq} acknowledged=${acknowledged.length} ` +
            `refused503=${statuses.get(503) ?? 0} downMs=${downMs} executions=${figures.executions} callbacks=${figures.callbacks}`,
        );
      } finally {
        await store.close();
      }
    } catch (error) {
      if (error instanceof Error) error.message += `\n${tail(lessor!.logs(), 5_000)}`;
      throw error;
    }
  });
});
