/**
 * Kill -9 of the control plane at chosen points of provision, update and delete, with the
 * `process` provider (real OS processes that outlive Lessor), on each database × engine. Kill
 * points are found by watching the API and the database:
 *   1. during the provider call — each tenant's execution `running` (processes that sleep before
 *      they listen; a delete of a process that ignores SIGTERM waits out the stop grace);
 *   2. after the provider call — execution `succeeded` while the tenant is not settled (a slow health
 *      check holds the workflow's health step; at that moment the callback is delivered or pending),
 *      and in the same crash, right after three intents are written (their 201/202 answers).
 * After each restart every tenant reaches its phase; at the end the OS shows one runtime per live
 * tenant and none for deleted ones, histories are valid paths and callbacks were applied once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LessorClient } from '../../src/api/client.js';
import type { Tenant } from '../../src/api/types.js';
import { deploy, matrix, withLogs, type Deployment } from '../support/deployment.js';
import { assertRuntimes, assertStoreInvariants } from '../support/invariants.js';
import { processWorld, type ProcessTenantOptions, type ProcessWorld } from '../support/process-runtimes.js';
import { executionsOf } from '../support/tenant-views.js';
import { waitFor, waitForPhase } from '../support/wait.js';

/** Recovery of an execution killed mid-call waits for its compute lease (15 s, not configurable). */
const RECOVERY_MS = 120_000;

for (const { backend, engine, label } of matrix()) {
  describe(`crash and restart ${label}`, () => {
    const prefix = `e2e-cr${randomBytes(3).toString('hex')}`;
    const expected = new Map<string, 0 | 1>();
    let d: Deployment | undefined;
    let world: ProcessWorld | undefined;
    let client: LessorClient;

    before(async () => {
      world = await processWorld();
      d = await deploy({ backend, engine, providers: { process: { stopGraceMs: 3_000 } } });
      client = d.client;
    });
    after(async () => {
      await d?.close();
      await world?.cleanup();
    });

    const create = async (name: string, options: ProcessTenantOptions = {}): Promise<Tenant> => {
      const tenant = await client.createTenant({
        name: `${prefix}-${name}`,
        spec: { config: world!.config(options) },
      });
      expected.set(tenant.id, 1);
      return tenant;
    };
    const ready = (t: Tenant, generation = 1) =>
      waitForPhase(client, t.id, 'ready', { generation, timeoutMs: RECOVERY_MS, failOn: ['failed'] });
    const archived = (t: Tenant) =>
      waitForPhase(client, t.id, 'archived', { timeoutMs: RECOVERY_MS, failOn: ['failed'] });
    const update = (t: Tenant, options: ProcessTenantOptions) =>
      client.patchTenant(t.id, { spec: { config: world!.config(options) } });
    const remove = async (t: Tenant) => {
      expected.set(t.id, 0);
      await client.deleteTenant(t.id);
    };
    const executionIs = async (t: Tenant, operation: string, status: string) =>
      (await executionsOf(client, t.id)).some((e) => e.operation === operation && e.status === status);
    const mode = async (t: Tenant): Promise<string> => {
      const url = (await client.getTenant(t.id)).status.endpoints[0]!.url;
      return (await (await fetch(`${url}/cgi-bin/mode`)).text()).trim();
    };
    const crash = async (): Promise<void> => {
      await d!.lessor.kill('SIGKILL');
      await d!.lessor.restart();
    };

    let targets: Record<'u1' | 'd1' | 'u2' | 'd2' | 'u3', Tenant>;

    test(`${label} prepare tenants to update and delete`, () =>
      withLogs(d, async () => {
        const [u1, d1, u2, d2, u3] = await Promise.all([
          create('u1'),
          create('d1', { ignoreTerm: true }),
          create('u2'),
          create('d2'),
          create('u3'),
        ]);
        targets = { u1: u1, d1: d1, u2: u2, d2: d2, u3: u3 };
        await Promise.all(Object.values(targets).map((t) => ready(t)));
      }));

    test(`${label} kill during the provider call of provision, update and delete`, () =>
      withLogs(d, async () => {
        const p1 = await create('p1', { startDelayS: 4 });
        await update(targets.u1, { mode: 'two', startDelayS: 4 });
        await remove(targets.d1);
        await waitFor(
          'three executions in flight',
          async () =>
            (await executionIs(p1, 'provision', 'running')) &&
            (await executionIs(targets.u1, 'update', 'running')) &&
            (await executionIs(targets.d1, 'delete', 'running')),
        );
        await crash();
        await Promise.all([ready(p1), ready(targets.u1, 2), archived(targets.d1)]);
        assert.equal(await mode(targets.u1), 'two');
      }));

    test(`${label} kill after the provider call (before settling) and right after new intents`, () =>
      withLogs(d, async () => {
        const slow = { slowHealth: true } as const;
        const [p3] = await Promise.all([create('p3', slow), update(targets.u3, { mode: 'three', ...slow })]);
        const caught = await waitFor('an execution succeeded whose tenant is not settled yet', async () => {
          const inWindow = async (t: Tenant, operation: string, phase: string) =>
            (await executionIs(t, operation, 'succeeded')) &&
            (await client.getTenant(t.id)).status.phase === phase;
          const hits = [
            (await inWindow(p3, 'provision', 'provisioning')) && 'provision',
            (await inWindow(targets.u3, 'update', 'updating')) && 'update',
          ].filter((hit): hit is string => hit !== false);
          return hits.length > 0 ? hits : undefined;
        });
        const [p2] = await Promise.all([
          create('p2'),
          update(targets.u2, { mode: 'two' }),
          remove(targets.d2),
        ]);
        await crash();
        console.log(
          `crash-restart ${label}: killed after the provider call of ${caught.join(' and ')}, and after 3 intents`,
        );
        await Promise.all([
          ready(p3),
          ready(targets.u3, 2),
          ready(p2),
          ready(targets.u2, 2),
          archived(targets.d2),
        ]);
        assert.equal(await mode(targets.u3), 'three');
        assert.equal(await mode(targets.u2), 'two');
      }));

    test(`${label} one runtime per live tenant (seen by the OS), valid histories, callbacks once`, () =>
      withLogs(d, async () => {
        assertRuntimes(await world!.runtimes(), expected);
        const figures = await assertStoreInvariants(d!.store, [...expected.keys()]);
        console.log(`crash-restart ${label}: tenants=${expected.size} crashes=2 ${JSON.stringify(figures)}`);
      }));
  });
}
