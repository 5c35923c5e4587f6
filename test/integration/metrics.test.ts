/**
 * Metrics through the real composition root (`startLessor`: SQLite file, embedded engine, fake
 * provider, HTTP API): after a known sequence — one tenant provisioned, one whose provider call
 * fails for good (INVALID_CONFIG), the failed one deleted — `/metrics` holds the documented names
 * with the documented labels and the values that sequence implies, and no tenant id in any label.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LessorClient } from '../../src/api/client.js';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { sample, scrapeMetrics, sumOf } from '../support/prometheus.js';
import { waitFor, waitForPhase } from '../support/wait.js';

const WAIT = { timeoutMs: 30_000 } as const;

let app: TestLessor | undefined;
let client: LessorClient;

before(async () => {
  app = await startTestLessor({ env: { LESSOR_SERVER__METRICS__REFRESH_INTERVAL_MS: '1' } });
  client = new LessorClient({ baseUrl: app.url });
});

after(() => app?.close());

const scrape = () => scrapeMetrics(app!.url);

test('after provision, a permanent provider failure and a delete, /metrics reports exactly that', async () => {
  const good = await client.createTenant({ name: 'metrics-good', spec: { config: {} } });
  await waitForPhase(client, good.id, 'ready', { ...WAIT, failOn: ['failed'] });
  const bad = await client.createTenant({
    name: 'metrics-bad',
    spec: { config: { faults: { nonRetriable: true, failOperations: ['provision'] } } },
  });
  await waitForPhase(client, bad.id, 'failed', WAIT);
  await client.deleteTenant(bad.id);
  await waitForPhase(client, bad.id, 'archived', { ...WAIT, failOn: ['failed'] });
  await waitFor(
    'the delete run to be counted as finished',
    async () =>
      sample(await scrape(), 'lessor_workflow_runs_finished_total', {
        engine: 'embedded',
        workflow: 'delete',
        outcome: 'succeeded',
      }) === 1,
    WAIT,
  );
  // The run's end enqueues a reconcile of its tenant: the figures below are those once it is done.
  await app!.app.controller.whenIdle();
  const m = await scrape();

  const runs = (workflow: string, outcome?: string) =>
    outcome === undefined
      ? sample(m, 'lessor_workflow_runs_started_total', { engine: 'embedded', workflow })
      : sample(m, 'lessor_workflow_runs_finished_total', { engine: 'embedded', workflow, outcome });
  assert.equal(runs('provision'), 2, 'two provision runs started');
  assert.equal(runs('delete'), 1, 'one delete run started');
  assert.equal(runs('provision', 'succeeded'), 1);
  assert.equal(runs('provision', 'failed'), 1);
  assert.equal(
    sample(m, 'lessor_workflow_run_duration_seconds_count', {
      engine: 'embedded',
      workflow: 'provision',
      outcome: 'failed',
    }),
    1,
  );

  const executions = (operation: string, outcome: string, code: string) =>
    sample(m, 'lessor_compute_executions_total', { provider: 'fake', operation, outcome, error_code: code });
  assert.equal(executions('provision', 'succeeded', ''), 1);
  assert.equal(executions('provision', 'failed', 'INVALID_CONFIG'), 1);
  assert.equal(executions('delete', 'succeeded', ''), 1);
  assert.ok(
    (sample(m, 'lessor_compute_provider_call_duration_seconds_count', {
      provider: 'fake',
      operation: 'provision',
      outcome: 'error',
    }) ?? 0) >= 1,
  );
  assert.ok(
    (sample(m, 'lessor_compute_provider_call_duration_seconds_count', {
      provider: 'fake',
      operation: 'provision',
      outcome: 'ok',
    }) ?? 0) >= 1,
  );
  assert.equal(
    sample(m, 'lessor_compute_provider_calls_in_flight', { provider: 'fake', operation: 'provision' }),
    0,
  );

  // Three executions settled, each with one callback the workflow waited for.
  assert.equal(
    sample(m, 'lessor_callback_delivery_attempts_total', { outcome: 'delivered' }),
    sumOf(m, 'lessor_callback_delivery_attempts_total'),
  );
  assert.ok((sample(m, 'lessor_callback_delivery_attempts_total', { outcome: 'delivered' }) ?? 0) >= 3);
  assert.ok((sample(m, 'lessor_callback_delivery_lag_seconds_count', {}) ?? 0) >= 3);
  assert.equal(sample(m, 'lessor_callback_outbox_pending', {}), 0);
  assert.equal(sample(m, 'lessor_callback_oldest_pending_age_seconds', {}), 0);

  const queue = { name: 'tenants' };
  assert.ok((sample(m, 'lessor_workqueue_adds_total', queue) ?? 0) >= 3, 'creates and the delete enqueued');
  assert.equal(sample(m, 'lessor_workqueue_depth', queue), 0);
  assert.equal(sample(m, 'lessor_workqueue_active_workers', queue), 0);
  assert.ok((sample(m, 'lessor_workqueue_queue_duration_seconds_count', queue) ?? 0) >= 3);
  assert.equal(
    sample(m, 'lessor_workqueue_work_duration_seconds_count', queue),
    sumOf(m, 'lessor_controller_reconcile_total'),
    'every handled key is one reconcile',
  );
  assert.ok(
    (sample(m, 'lessor_controller_reconcile_total', { controller: 'tenants', result: 'success' }) ?? 0) >= 3,
  );
  assert.equal(sample(m, 'lessor_controller_reconcile_errors_total', { controller: 'tenants' }) ?? 0, 0);

  assert.equal(sample(m, 'lessor_tenants', { phase: 'ready' }), 1);
  assert.equal(sample(m, 'lessor_tenants', { phase: 'archived' }), 1);
  assert.equal(sample(m, 'lessor_tenants', { phase: 'failed' }), 0);
  assert.equal(sumOf(m, 'lessor_workflow_runs_active'), 0);

  assert.ok(
    (sample(m, 'lessor_store_query_duration_seconds_count', { dialect: 'sqlite', kind: 'select' }) ?? 0) > 0,
  );
  assert.ok(
    (sample(m, 'lessor_store_query_duration_seconds_count', { dialect: 'sqlite', kind: 'insert' }) ?? 0) > 0,
  );
  assert.ok((sample(m, 'lessor_store_sqlite_group_commit_batch_size_count', {}) ?? 0) > 0);
  assert.ok((sample(m, 'lessor_store_transactions_total', { dialect: 'sqlite' }) ?? 0) > 0);
  assert.ok(
    (sample(m, 'lessor_http_request_duration_seconds_count', {
      method: 'POST',
      route: '/v1/tenants',
      status_code: '201',
    }) ?? 0) >= 2,
  );

  for (const s of m.samples) {
    for (const value of Object.values(s.labels)) {
      assert.ok(!value.includes(good.id) && !value.includes(bad.id), `${s.name} has a tenant id label`);
    }
  }
});
