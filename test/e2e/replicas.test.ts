/**
 * Two Lessor processes on one PostgreSQL database sharing the work (docs/architecture.md, embedded
 * engine: leased runs, expired leases taken over), with the `process` provider. Tenants are created
 * through both; one process is SIGKILLed while it holds runs and provider calls in flight. The other
 * takes everything over: every tenant reaches ready with exactly one runtime (seen by the OS).
 *
 * PostgreSQL only (SQLite is one process's database). Embedded engine only: restate replicas would
 * each need their own endpoint registration, which this suite does not set up.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Tenant } from '../../src/api/types.js';
import { postgresBackend } from '../../src/store/testing/test-databases.js';
import { deploy, withLogs, type Deployment } from '../support/deployment.js';
import { embeddedEngine } from '../support/engines.js';
import { assertRuntimes, assertStoreInvariants } from '../support/invariants.js';
import { processWorld, type ProcessWorld } from '../support/process-runtimes.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const WANTED = process.env.LESSOR_TEST_BACKENDS?.split(',').map((s) => s.trim());
/** Registered only when PostgreSQL is among the backends under test (LESSOR_TEST_BACKENDS). */
const WITH_POSTGRES = !WANTED || WANTED.includes('postgres');
const TENANTS = 6;

if (WITH_POSTGRES)
  describe('two Lessor processes on one PostgreSQL, one killed mid-work', () => {
    const prefix = `e2e-rp${randomBytes(3).toString('hex')}`;
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;

    before(async () => {
      world = await processWorld();
      d = await deploy({
        backend: postgresBackend,
        engine: embeddedEngine,
        providers: { process: {} },
        replicas: 2,
      });
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
    });

    test('all tenants reach ready through the survivor, one runtime each', () =>
      withLogs(d, async () => {
        const [a, b] = d!.servers as [
          NonNullable<Deployment['servers'][0]>,
          NonNullable<Deployment['servers'][1]>,
        ];
        const tenants: Tenant[] = [];
        for (let i = 0; i < TENANTS; i++) {
          const via = i % 2 === 0 ? a : b;
          tenants.push(
            await via.client.createTenant({
              name: `${prefix}-t${i}`,
              spec: { config: world!.config({ startDelayS: 3 }) },
            }),
          );
        }
        const ids = tenants.map((t) => t.id);
        const victim = `:${String(a.pid())}:`;
        const held = await waitFor(
          `process a (pid ${String(a.pid())}) to hold provider calls in flight`,
          async () => {
            const inFlight = [];
            for (const id of ids) {
              const page = await d!.store.executions.list({ tenantId: id, limit: 10 });
              inFlight.push(
                ...page.items.filter((e) => e.status === 'running' && e.leaseOwner?.includes(victim)),
              );
            }
            return inFlight.length > 0 ? inFlight : undefined;
          },
        );
        await a.kill('SIGKILL');
        for (let i = TENANTS; i < TENANTS + 2; i++) {
          tenants.push(
            await b.client.createTenant({ name: `${prefix}-t${i}`, spec: { config: world!.config() } }),
          );
        }
        for (const tenant of tenants) {
          await waitForPhase(b.client, tenant.id, 'ready', { timeoutMs: 120_000, failOn: ['failed'] });
        }
        const all = tenants.map((t) => t.id);
        assertRuntimes(await world!.runtimes(), new Map(all.map((id) => [id, 1] as const)));
        for (const execution of held) {
          const now = await d!.store.executions.get(execution.executionId);
          assert.equal(
            now?.status,
            'succeeded',
            `execution ${execution.executionId} held by the killed process was taken over`,
          );
        }
        const figures = await assertStoreInvariants(d!.store, all);
        console.log(`replicas: tenants=${all.length} takenOver=${held.length} ${JSON.stringify(figures)}`);
      }));
  });
