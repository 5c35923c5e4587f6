/**
 * The tenant workflows on the `restate` engine, for what a run's journal layout decides: a run
 * submitted before the tenant read and the start change became one step (layout 3 and older)
 * makes `load` then `status:start`, also when Restate replays it after suspending it; a run
 * submitted now makes `start`. Real restate-server, real SQLite store, the fake provider; no
 * callback dispatcher: each run finds its execution's outcome by the fallback query once its
 * callback wait times out, a wait long enough for Restate to suspend the run and replay it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ComputeManager } from '../compute/compute-manager.js';
import { fakeSpec } from '../compute/testing/manager-fixtures.js';
import { workflowRunId } from '../domain/ids.js';
import { silentLogger } from '../domain/logger.js';
import { tenantRunTags } from '../domain/tenant-run.js';
import type { Tenant } from '../domain/tenant.js';
import { testHasher } from '../domain/testing/test-hasher.js';
import { RestateHttp } from '../workflow/restate/restate-http.js';
import type { RestateEngine } from '../workflow/restate/index.js';
import { createRestateWorld, type RestateWorld } from '../workflow/restate/testing/restate-harness.js';
import type { WorkflowContext } from '../workflow/context.js';
import { finished } from '../workflow/testing/run-probes.js';
import type { TenantWorkflowInput } from './provisioning-deps.js';
import { tenantWorkflows } from './tenant-workflows.js';
import { FAST_RETRY, fakeCompute } from './testing/workflow-fixture.js';

describe('[restate] tenant workflows across journal layouts', () => {
  let world: RestateWorld;
  let compute: ComputeManager;
  let engine: RestateEngine;
  let http: RestateHttp;
  const executions = new Map<string, number>();

  before(async () => {
    world = await createRestateWorld();
    const { registry } = fakeCompute();
    compute = new ComputeManager({
      ledger: world.db.store.executions,
      registry,
      hasher: testHasher,
      instanceId: `restate-layouts-${randomUUID().slice(0, 8)}`,
      tenants: (id) => world.db.store.tenants.get(id),
      logger: silentLogger,
    });
    compute.open();
    const tenantDefinitions = tenantWorkflows({
      compute,
      tenants: world.db.store.tenants,
      retryPolicies: { provision: FAST_RETRY, update: FAST_RETRY, delete: FAST_RETRY },
      awaitGraceMs: 50,
      providerTimeoutMs: () => 5_000,
    });
    // Each execution of a run's code, the first one and every replay, counted.
    const definitions = tenantDefinitions.map((definition) => ({
      name: definition.name,
      run: (ctx: WorkflowContext, input: TenantWorkflowInput) => {
        executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + 1);
        return definition.run(ctx, input);
      },
    }));
    // Suspended while a run waits, so that it resumes by a replay of the journal it began.
    engine = await world.engine(definitions, { inactivityTimeoutMs: 200 });
    http = new RestateHttp(world.server.adminUrl, world.server.ingressUrl, 5_000);
  });

  after(async () => {
    await compute?.close();
    await world?.cleanup();
  });

  /** A tenant whose provision call gets 800 ms before the run queries its execution instead. */
  const createTenant = () =>
    world.db.store.tenants.create({
      name: `t-${randomUUID().slice(0, 8)}`,
      spec: { ...fakeSpec({ image: 'app:1' }), retryPolicy: { ...FAST_RETRY, timeoutMs: 800 } },
      actor: 'test',
    });

  const runOf = (tenant: Tenant) => ({
    runId: workflowRunId(tenant.id, 'provision', tenant.generation),
    workflow: 'provision',
    input: { tenantId: tenant.id, generation: tenant.generation },
    tags: tenantRunTags({
      tenantId: tenant.id,
      generation: tenant.generation,
      configHash: testHasher(tenant.spec.config),
      triggerSource: 'api',
    }),
  });

  /** The `ctx.run` names in Restate's own journal of a run's `run` invocation. */
  async function restateRuns(runId: string): Promise<string[]> {
    const rows = await http.query<{ name: string | null; entry_type: string }>(
      `SELECT j.name AS name, j.entry_type AS entry_type FROM sys_journal j ` +
        `JOIN sys_invocation i ON j.id = i.id WHERE i.target_service_name = '${engine.serviceName}' ` +
        `AND i.target_service_key = '${runId}' AND i.target_handler_name = 'run' ORDER BY j.index`,
    );
    return rows.filter((r) => r.entry_type === 'Command: Run').map((r) => r.name ?? '');
  }

  async function phaseReasons(tenantId: string, runId: string): Promise<string[]> {
    const events = await world.db.store.events.listByTenant(tenantId, { limit: 1000 });
    return events.filter((e) => e.type === 'PhaseChanged' && e.runId === runId).map((e) => e.reason);
  }

  test('a run submitted with layout 3 makes load and status:start, across a replay; a new run makes start', async () => {
    const former = await createTenant();
    const formerRun = runOf(former);
    // As a process from before submitted it: the row, then a payload with `layout: 3`.
    await world.db.store.runs.createOrGet({ ...formerRun, engine: 'restate' });
    await http.submitRun(engine.serviceName, formerRun.runId, {
      workflow: 'provision',
      input: formerRun.input,
      layout: 3,
    });
    const current = await createTenant();
    await engine.start(runOf(current));

    const expected = {
      [formerRun.runId]: ['load', 'status:start'],
      [runOf(current).runId]: ['start'],
    };
    for (const [tenant, runId] of [
      [former, formerRun.runId],
      [current, runOf(current).runId],
    ] as const) {
      const done = await finished(engine, runId, 20_000);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
      assert.equal((done.output as { result?: string }).result, 'ready');
      const journal = (await engine.journal(runId)).map((s) => s.name);
      assert.deepEqual(journal.slice(0, expected[runId]!.length + 1), [
        ...expected[runId]!,
        'compute:provision#1',
      ]);
      assert.ok(
        journal.some((name) => name.startsWith('query:')),
        `the run waited out its callback: ${journal.join(', ')}`,
      );
      assert.deepEqual(
        (await restateRuns(runId)).slice(0, expected[runId]!.length),
        expected[runId],
        "Restate's journal",
      );
      assert.deepEqual(await phaseReasons(tenant.id, runId), ['ProvisionStarted', 'ProvisionSucceeded']);
      assert.equal((await world.db.store.tenants.get(tenant.id))?.status.phase, 'ready');
      assert.ok((executions.get(runId) ?? 0) >= 2, 'Restate suspended the run and replayed it');
    }
  });
});
