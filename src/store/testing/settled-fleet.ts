/**
 * A settled fleet for retention scale checks, seeded by SQL that both engines run as written:
 * `count` ready tenants, each with three events, its succeeded provision run (three journal
 * entries), that run's succeeded execution (three history rows) and two delivered callbacks — all
 * settled at `at`, and the tenant's status naming the run and the execution, as after a real
 * provisioning. Statements go to the driver directly (sqlite/ and postgres/ tests run them).
 */

/** One recursive series of `count` numbers, then an insert selecting from it. */
function fromSeries(count: number, insert: string): string {
  return `with recursive n(i) as (select 1 union all select i + 1 from n where i < ${count}) ${insert}`;
}

const tenant = "'tenant-' || i";
const run = "'tenant-' || i || ':provision:g1'";
const execution = "'ex-tenant-' || i";

export function settledFleetSql(count: number, at: string): readonly string[] {
  const when = `'${at}'`;
  const status = `'{"phase":"ready","observedGeneration":1,"message":"","compute":{"executionId":"ex-tenant-' || i || '","operation":"provision","status":"succeeded"},"workflow":{"runId":"tenant-' || i || ':provision:g1","action":"provision","state":"succeeded","attempt":1},"resources":{},"endpoints":[],"lastError":null,"conditions":[]}'`;
  const runTags = `'{"subject":"tenant:' || ${tenant} || '","generation":"1","configHash":"h","trigger":"api"}'`;
  const spec = `'{"provider":"fake","config":{"image":"app:1"},"labels":{},"annotations":{},"retryPolicy":null,"paused":false}'`;
  return [
    fromSeries(
      count,
      `insert into tenants (id, name, provider, phase, generation, observed_generation, paused, spec, status, version, created_at, updated_at, archived)
       select ${tenant}, ${tenant}, 'fake', 'ready', 1, 1, 0, ${spec}, ${status}, 4, ${when}, ${when}, 0 from n`,
    ),
    fromSeries(
      count * 3,
      `insert into tenant_events (tenant_id, type, actor, reason, message, generation, at)
       select 'tenant-' || ((i + 2) / 3), 'PhaseChanged', 'controller', 'Seeded', '', 1, ${when} from n`,
    ),
    fromSeries(
      count,
      `insert into workflow_runs (run_id, workflow, subject, tags, engine, state, attempt, created_at, updated_at, finished_at)
       select ${run}, 'provision', 'tenant:' || ${tenant}, ${runTags}, 'embedded', 'succeeded', 1, ${when}, ${when}, ${when} from n`,
    ),
    fromSeries(
      count * 3,
      `insert into workflow_steps (run_id, seq, name, kind, status, started_at, finished_at, duration_ms)
       select 'tenant-' || ((i + 2) / 3) || ':provision:g1', i % 3, 'step', 'step', 'completed', ${when}, ${when}, 1 from n`,
    ),
    fromSeries(
      count,
      `insert into compute_executions (execution_id, tenant_id, workflow_run_id, operation, provider, status, attempt, timeout_ms, generation, config_hash, resources, endpoints, created_at, started_at, finished_at)
       select ${execution}, ${tenant}, ${run}, 'provision', 'fake', 'succeeded', 1, 60000, 1, 'h', '{}', '[]', ${when}, ${when}, ${when} from n`,
    ),
    fromSeries(
      count * 3,
      `insert into compute_execution_history (execution_id, seq, status, attempt, at, details)
       select 'ex-tenant-' || ((i + 2) / 3), i % 3, 'succeeded', 1, ${when}, '{}' from n`,
    ),
    fromSeries(
      count * 2,
      `insert into callbacks (id, execution_id, workflow_run_id, tenant_id, payload, state, attempts, next_attempt_at, created_at, delivered_at)
       select 'cb-' || i, 'ex-tenant-' || ((i + 1) / 2), 'tenant-' || ((i + 1) / 2) || ':provision:g1', 'tenant-' || ((i + 1) / 2), '{}', 'delivered', 1, 0, ${when}, ${when} from n`,
    ),
  ];
}
