/**
 * The round trips between Lessor and restate-server of one create→ready, counted in Restate's own
 * journal of the run's `run` invocation (`sys_journal`): every `ctx.run` is a round trip through
 * Restate's log before the handler goes on (docs/decisions.md, "Restate: the move back to `running`
 * rides on the next `ctx.run`"). A whole Lessor runs in this process on the `restate` engine with
 * the fake provider, against a real restate-server, once on each store (SQLite, PostgreSQL). The
 * test fails when a change adds a `ctx.run` to a provision, or raises the SQL statements one
 * create→ready costs Lessor's store on this engine (counted by the store's own instrumentation, as
 * `write-path-statements.test.ts` does for the embedded engine).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestLessor, type TestLessor } from '../../src/cli/testing/test-lessor.js';
import { tenantSubject } from '../../src/domain/tenant-run.js';
import { backends, type TestDatabase } from '../../src/store/testing/test-databases.js';
import { RestateHttp } from '../../src/workflow/restate/restate-http.js';
import { restateEngine, type EngineSetup } from '../support/engines.js';
import {
  countsSince,
  settledCounts,
  statementsOf,
  storeCounts,
  type StoreCounts,
} from '../support/store-counters.js';
import { waitFor } from '../support/wait.js';

/**
 * `ctx.run`s of one provision: start (which reads the tenant and records the start), compute
 * (which enters the callback wait), health, settled. The callback wait itself is a promise and a
 * timer, which need no answer before the handler goes on.
 */
const BUDGET_RUNS = 4;

/**
 * Statements (queries, plus a BEGIN and a COMMIT per transaction) of one create→ready, per store.
 * SQLite: 35 before a declared wait showed on the run row only once it lasted (journal
 * layout 5: the run's move to `waiting` and back, the read that checked the first, and the wait's
 * `started` entry and its finish became one completed entry), then 31 before the run's first step
 * changed the tenant its reconcile had read, then 28 before the steps' audit entries were held and
 * carried by later writes (layout 6: five inserts became two — start, compute and the wait's entry
 * together, health and settled with the run's end), then 25–26 before SQLite showed a new
 * execution on its tenant in the execution's insert and wrote a run's end with its last audit
 * entries and its event in one statement, as PostgreSQL does, then 21–22 before SQLite made an
 * execution's move to `running` and `succeeded` one statement. Those figures, 16 on SQLite and
 * 15–16 on PostgreSQL, also held the test's own polling of the run through the server's store (two
 * or three reads at a usual pace, more on a slow machine); it polls through a second store now,
 * and one create→ready is 14 statements on SQLite and 13 on PostgreSQL (since a reconcile reads
 * the tenant and its runs in one statement there), five of five alike. Each budget is that plus
 * one: under load a create→ready takes a statement or two more (a wait that lasts journals its
 * deadline), and the best of five leaves that out.
 */
const BUDGET_STATEMENTS = { sqlite: 15, postgres: 14 } as const;
const HOUR = 3_600_000;

for (const backend of backends()) {
  describe(`[restate+${backend.name}] round trips of one create→ready`, () => {
    let database: TestDatabase | undefined;
    let engine: EngineSetup | undefined;
    let app: TestLessor | undefined;

    before(async () => {
      database = await backend.create();
      engine = await restateEngine.setup();
      app = await startTestLessor({
        env: { ...engine.env, LESSOR_DATABASE__URL: database.url },
        backgroundIntervalMs: HOUR,
      });
    });

    after(async () => {
      await app?.close();
      await engine?.cleanup();
      await database?.cleanup();
    });

    /**
     * POSTs a tenant and waits until its provision run succeeded; the run's id. The run is read
     * through a second store on the same database, so that polling adds nothing to the server's
     * counters however long the provision takes.
     */
    async function provision(name: string): Promise<string> {
      const { url } = app!;
      const observer = database!.store;
      const created = await fetch(`${url}/v1/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, spec: { provider: 'fake', config: {} } }),
      });
      const body = await created.text();
      assert.equal(created.status, 201, body);
      const tenant = JSON.parse(body) as { id: string };
      return waitFor(`the provision run of ${name} succeeded`, async () => {
        const runs = await observer.runs.listBySubject(tenantSubject(tenant.id), 10);
        const run = runs.find((r) => r.workflow === 'provision');
        return run?.state === 'succeeded' ? run.runId : undefined;
      });
    }

    test(`[${backend.name}] a provision makes one ctx.run per step, none for the run state around its wait`, async (t) => {
      const runId = await provision('counted');
      const http = new RestateHttp(engine!.env.LESSOR_ENGINE__RESTATE__ADMIN_URL!, '', 5_000);
      const entries = await http.query<{ name: string | null; entry_type: string }>(
        `SELECT j.name AS name, j.entry_type AS entry_type FROM sys_journal j ` +
          `JOIN sys_invocation i ON j.id = i.id WHERE i.target_service_name = 'LessorRun' ` +
          `AND i.target_service_key = '${runId}' AND i.target_handler_name = 'run' ORDER BY j.index`,
      );
      t.diagnostic(`journal of ${runId}: ${JSON.stringify(entries)}`);
      const runs = entries.filter((e) => e.entry_type === 'Command: Run').map((e) => e.name);
      assert.deepEqual(
        runs.map((name) => name?.replace(/#\d+$/, '#n')),
        ['start', 'compute:provision#n', 'health:provision#n', 'status:settled'],
      );
      assert.ok(runs.length <= BUDGET_RUNS, `${runs.length} ctx.runs, over ${BUDGET_RUNS}`);
      assert.ok(!entries.some((e) => e.name?.startsWith('lessor:')), 'no bookkeeping ctx.run of its own');
    });

    test(`[${backend.name}] one create→ready stays within the statement budget of the store`, async (t) => {
      const { url } = app!;
      await provision('warm-up'); // first use of each prepared statement and cache
      const measured: StoreCounts[] = [];
      for (let i = 0; i < 5; i++) {
        await storeCounts(url); // a first scrape may refresh gauges: keep it out of the window
        const start = await storeCounts(url);
        await provision(`statements-${i}`);
        measured.push(countsSince(await settledCounts(url), start));
      }
      // Background work can only add statements, so the smallest is the figure.
      const best = measured.reduce((a, b) => (statementsOf(b) < statementsOf(a) ? b : a));
      const figure = { statements: statementsOf(best), ...best, all: measured.map(statementsOf) };
      t.diagnostic(`create→ready on restate+${backend.name}: ${JSON.stringify(figure)}`);
      assert.ok(
        figure.statements <= BUDGET_STATEMENTS[backend.name],
        `a create→ready costs ${figure.statements} statements, over the budget of ${BUDGET_STATEMENTS[backend.name]}: ${JSON.stringify(figure)}`,
      );
    });
  });
}
