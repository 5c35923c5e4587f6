/**
 * A tenant and its newest workflow runs, read together for the reconciler, which decides from both
 * (`TenantRepository.getWithRuns`). On PostgreSQL, where every statement is a round trip, they are
 * one statement — the runs aggregated as JSON beside the tenant's columns — and so also read at one
 * snapshot; on SQLite, where a read is a call into the library, they are the two reads `get` and
 * `WorkflowRunRepository.listBySubject` make (docs/architecture.md, "The write path in statements").
 */
import { sql, type Selectable } from 'kysely';
import { tenantSubject } from '../domain/tenant-run.js';
import type { StoreContext } from './context.js';
import { preparedQuery } from './prepared-query.js';
import type { TenantsTable, WorkflowRunsTable } from './schema.js';
import type { TenantWithRuns } from './store.js';
import { findTenantRow, toTenant } from './tenant-rows.js';
import { runsBySubject, toRun } from './workflow-run-repository.js';

/**
 * PostgreSQL: the tenant's row by id and, as JSON, its subject's newest runs in `listBySubject`'s
 * order. `json_agg` of a row keeps each column under its name: text as a string, integers and
 * bigints as numbers — what `toRun` reads from a row.
 */
const tenantWithRunsQuery = preparedQuery((db, a: { id: string; subject: string; limit: number }) =>
  db
    .selectFrom('tenants')
    .selectAll()
    .select(
      sql<
        Selectable<WorkflowRunsTable>[]
      >`(select coalesce(json_agg(r order by r.created_at desc, r.run_id desc), '[]'::json)
        from (select * from workflow_runs where subject = ${a.subject}
          order by created_at desc, run_id desc limit ${a.limit}) as r)`.as('runs'),
    )
    .where('id', '=', a.id),
);

/** The tenant with id `id` (not a name) and its newest `limit` runs; undefined when there is none. */
export async function findTenantWithRuns(
  ctx: StoreContext,
  id: string,
  limit: number,
): Promise<TenantWithRuns | undefined> {
  const subject = tenantSubject(id);
  if (ctx.dialect.name === 'sqlite') {
    const row = await findTenantRow(ctx, ctx.db, id);
    if (!row || row.id !== id) return undefined;
    const runs = await runsBySubject(ctx, subject, limit);
    return { tenant: toTenant(row, ctx.specs), runs };
  }
  const found = await tenantWithRunsQuery.first(ctx, { id, subject, limit });
  if (!found) return undefined;
  const { runs, ...row } = found as Selectable<TenantsTable> & { runs: Selectable<WorkflowRunsTable>[] };
  return { tenant: toTenant(row, ctx.specs), runs: runs.map(toRun) };
}
