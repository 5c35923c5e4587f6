/**
 * The cost of one create→ready in SQL, on each database, counted by the store's own
 * instrumentation (`/metrics`: `lessor_store_query_duration_seconds_count` for the queries,
 * `lessor_store_transactions_total` for the transactions, each of which also costs a BEGIN and a
 * COMMIT). A whole Lessor runs in this process — the API, the controller, the embedded engine, the
 * callback dispatcher and the fake provider — with every background poll set to an hour, so the
 * window holds only the create→ready itself. The test fails when a change raises the cost above
 * the budget.
 *
 * The window starts before POST /v1/tenants and ends once the tenant is ready, its run has
 * finished and the counters stand still; readiness is read through a second store on the same
 * database, which the counters do not see. Background work can only add statements, so the
 * smallest of a few create→readies is the figure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { tenantSubject } from '../../src/domain/tenant-run.js';
import { backends, type TestDatabase } from '../../src/store/testing/test-databases.js';
import {
  countsSince,
  settledCounts,
  statementsOf,
  storeCounts,
  type StoreCounts,
} from '../support/store-counters.js';
import { waitFor } from '../support/wait.js';

/**
 * The budget of one create→ready, per database: the figures reached so far (they were 65–69
 * statements and 8 transactions before the last round of cuts: one tenant read per run with
 * compare-and-set changes, the webhook outbox written only for a matching webhook, a run leased at
 * its creation, journal entries held back and written together, local promise resolutions handed
 * over in memory, short waits not shown on the run row; then 53 and 7 on both, before committed
 * callbacks were handed to the dispatcher in memory, the reconcile that follows a run's end stopped
 * reading the runs of a tenant that run left settled, and PostgreSQL wrote a fact and its events in
 * one statement; then 47 and 6 on SQLite and 34 and 2 on PostgreSQL, before a new execution's
 * insert and its move to `running` became one transaction on SQLite, a compute execution's move to
 * running or succeeded one statement on PostgreSQL, and a `running` callback was written
 * delivered; then 41 and 5 on SQLite and 23 and 0 on PostgreSQL, before a promise wait journaled
 * its deadline only once it lasted 200 ms, PostgreSQL inserted a new execution moved to `running`
 * in one statement, the run's read of the tenant and its start change became one step, one
 * journal entry, and PostgreSQL wrote a run's end with its last journal entries and its
 * RunStateChanged event in one statement; then 40 and 5 on SQLite, before SQLite wrote a tenant's
 * creation, a status change with its events and a new execution each as one insert into a view
 * whose trigger writes the rows; then 18 and 0 on PostgreSQL, before a step's first write there
 * carried the run's held journal entries and a read-only step kept them held; then 25 and 1 on
 * SQLite, before its triggers carried them too; then 22 and 1 on SQLite and 15 and 0 on
 * PostgreSQL, before a run's first step changed the tenant its reconcile had read, handed over in
 * memory, instead of reading it again; then 14 on PostgreSQL, before a new execution's insert there
 * showed the execution on the tenant in the same statement; then 13 on PostgreSQL, before a
 * reconcile read the tenant and its runs in one statement there; then 21 on SQLite, before a new
 * execution's insert there showed it on the tenant too and a run's end there carried its last
 * journal entries and its event in one statement; then 18 and 1 on SQLite, before an execution's
 * move to `succeeded` there became one statement too). The goal is 25 statements and 4 transactions
 * (docs/architecture.md, "The write path in statements"); lower these as cuts land.
 */
const BUDGET = {
  sqlite: { statements: 13, transactions: 0 },
  postgres: { statements: 12, transactions: 0 },
} as const;

const HOUR = 3_600_000;
const REPEATS = 3;

for (const backend of backends()) {
  describe(`[${backend.name}] statements of one create→ready`, () => {
    let database: TestDatabase | undefined;
    let app: TestLessor | undefined;

    before(async () => {
      database = await backend.create();
      app = await startTestLessor({
        env: { LESSOR_DATABASE__URL: database.url },
        backgroundIntervalMs: HOUR,
      });
    });

    after(async () => {
      await app?.close();
      await database?.cleanup();
    });

    /** One create→ready; the counters' change over it. */
    async function createToReady(name: string): Promise<StoreCounts> {
      const { url } = app!;
      const observer = database!.store;
      await storeCounts(url); // a first scrape may refresh gauges: keep it out of the window
      const start = await storeCounts(url);
      const created = await fetch(`${url}/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, spec: { provider: 'fake', config: {} } }),
      });
      assert.equal(created.status, 201, `POST ${name}: ${await created.text()}`);
      await waitFor(`${name} ready and its run finished`, async () => {
        const tenant = await observer.tenants.get(name);
        if (tenant?.status.phase !== 'ready') return false;
        const runs = await observer.runs.listBySubject(tenantSubject(tenant.id), 10);
        return runs.length > 0 && runs.every((run) => run.state === 'succeeded');
      });
      // Work that follows the run's end (a reconcile it triggers) is part of the cost.
      return countsSince(await settledCounts(url), start);
    }

    test(`[${backend.name}] one create→ready stays within the statement and transaction budget`, async (t) => {
      await createToReady('warm-up'); // first use of each prepared statement and cache
      const measured: StoreCounts[] = [];
      for (let i = 0; i < REPEATS; i++) measured.push(await createToReady(`counted-${i}`));
      const best = measured.reduce((a, b) => (statementsOf(b) < statementsOf(a) ? b : a));
      const figure = {
        statements: statementsOf(best),
        queries: best.queries,
        transactions: best.transactions,
        byKind: best.byKind,
        all: measured.map(statementsOf),
      };
      t.diagnostic(`create→ready on ${backend.name}: ${JSON.stringify(figure)}`);
      const budget = BUDGET[backend.name];
      assert.ok(
        figure.statements <= budget.statements,
        `a create→ready costs ${figure.statements} statements, over the budget of ${budget.statements}: ${JSON.stringify(figure)}`,
      );
      assert.ok(
        figure.transactions <= budget.transactions,
        `a create→ready costs ${figure.transactions} transactions, over the budget of ${budget.transactions}: ${JSON.stringify(figure)}`,
      );
    });
  });
}
