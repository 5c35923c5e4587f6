/**
 * Retention (the contract is `RetentionRepository` in store.ts; the policy is in docs/decisions.md,
 * "Retention"). One batch = one short transaction: read up to `limit` rows settled before the
 * cutoff, in (time, id) order from the caller's cursor — an index range (migration
 * 0005-retention-indexes), so rows inside the window are never read — then delete those of them
 * that may go. What must stay is decided by the DELETE's own conditions, evaluated against the
 * rows as they are at that moment, never by what the read saw.
 */
import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import { FINAL_ROLLOUT_PHASES } from '../domain/rollout.js';
import { TENANT_SUBJECT_PREFIX } from '../domain/tenant-run.js';
import { ACTIVE_RUN_STATES } from '../domain/workflow-run.js';
import { transaction, type Executor, type StoreContext } from './context.js';
import type { SqlDialect } from './dialect.js';
import type { Database } from './schema.js';
import type {
  RetentionBatch,
  RetentionBatchResult,
  RetentionCursor,
  RetentionKind,
  RetentionRepository,
} from './store.js';

/**
 * Settled is stated as "not unsettled": SQLite (no statistics) would otherwise serve `state in
 * (…settled)` from a state index — every settled row of the table — instead of the batch's keys.
 */
const UNSETTLED_EXECUTION_STATUSES = ['pending', 'running'];

/** A swept table: its sweep order (time, id) and the delete that keeps what must stay. */
interface SweptKind {
  readonly table: keyof Database;
  readonly time: string;
  readonly id: string;
  /** Deletes those of `ids` that may go (settled before `olderThan`); resolves to how many did. */
  remove(db: Executor, dialect: SqlDialect, ids: readonly string[], olderThan: string): Promise<bigint>;
}

function notExists(query: Expression<unknown>): Expression<SqlBool> {
  const eb = expressionBuilder<Database, never>();
  return eb.not(eb.exists(query));
}

/** The run `runIdRef` names is not active (or does not exist). */
function runNotActive(db: Executor, runIdRef: string): Expression<SqlBool> {
  const active = db
    .selectFrom('workflow_runs as active')
    .select(sql.lit(1).as('one'))
    .where('active.run_id', '=', sql.ref<string>(runIdRef))
    .where('active.state', 'in', ACTIVE_RUN_STATES);
  return notExists(active);
}

/**
 * The tenant a run's subject names (`tenant:<id>`), or NULL for another subject: the id is cut from
 * the run's side, so the tenant is still looked up by its primary key.
 */
function tenantOfRun(subjectRef: string): Expression<string | null> {
  const subject = sql.ref<string | null>(subjectRef);
  const prefix = TENANT_SUBJECT_PREFIX.length;
  return sql<
    string | null
  >`case when substr(${subject}, 1, ${sql.lit(prefix)}) = ${sql.lit(TENANT_SUBJECT_PREFIX)} then substr(${subject}, ${sql.lit(prefix + 1)}) end`;
}

/** The tenant `tenant` names does not point at `idRef` from `status.<path>`. */
function notNamedByStatus(
  db: Executor,
  dialect: SqlDialect,
  tenant: string | Expression<string | null>,
  path: readonly string[],
  idRef: string,
): Expression<SqlBool> {
  const owner = db
    .selectFrom('tenants as owner')
    .select(sql.lit(1).as('one'))
    .where('owner.id', '=', typeof tenant === 'string' ? sql.ref<string>(tenant) : tenant)
    .where(dialect.jsonText('owner.status', path), '=', sql.ref<string>(idRef));
  return notExists(owner);
}

const deleted = (result: { numDeletedRows: bigint } | undefined): bigint => result?.numDeletedRows ?? 0n;

const events: SweptKind = {
  table: 'tenant_events',
  time: 'at',
  id: 'seq',
  async remove(db, _dialect, ids, olderThan) {
    const result = await db
      .deleteFrom('tenant_events')
      .where('seq', 'in', ids.map(Number))
      .where('at', '<', olderThan)
      // The newest event stays, so `latestSeq` (a max) never goes back.
      .where(
        'seq',
        '<',
        db.selectFrom('tenant_events as newest').select((eb) => eb.fn.max('newest.seq').as('seq')),
      )
      .executeTakeFirst();
    return deleted(result);
  },
};

const runs: SweptKind = {
  table: 'workflow_runs',
  time: 'finished_at',
  id: 'run_id',
  async remove(db, dialect, ids, olderThan) {
    const result = await db
      .deleteFrom('workflow_runs as r')
      .where('r.run_id', 'in', ids)
      .where('r.state', 'not in', ACTIVE_RUN_STATES)
      .where('r.finished_at', '<', olderThan)
      // The newest run of each subject and workflow stays: a tenant's run ids continue its retry
      // suffix (domain/ids.ts). A scalar subquery, looked up per row through the subject's runs
      // index: as EXISTS, PostgreSQL would hash-join the whole runs table for every batch.
      .where((eb) =>
        eb.or([
          eb('r.subject', 'is', null),
          eb('r.run_id', '<>', (sub) =>
            sub
              .selectFrom('workflow_runs as newest')
              .select('newest.run_id')
              .whereRef('newest.subject', '=', 'r.subject')
              .whereRef('newest.workflow', '=', 'r.workflow')
              .orderBy('newest.created_at', 'desc')
              .orderBy('newest.run_id', 'desc')
              .limit(1),
          ),
        ]),
      )
      .where(notNamedByStatus(db, dialect, tenantOfRun('r.subject'), ['workflow', 'runId'], 'r.run_id'))
      .executeTakeFirst();
    return deleted(result);
  },
};

const executions: SweptKind = {
  table: 'compute_executions',
  time: 'finished_at',
  id: 'execution_id',
  async remove(db, dialect, ids, olderThan) {
    const result = await db
      .deleteFrom('compute_executions as e')
      .where('e.execution_id', 'in', ids)
      .where('e.status', 'not in', UNSETTLED_EXECUTION_STATUSES)
      .where('e.finished_at', '<', olderThan)
      .where(runNotActive(db, 'e.workflow_run_id'))
      .where(notNamedByStatus(db, dialect, 'e.tenant_id', ['compute', 'executionId'], 'e.execution_id'))
      .executeTakeFirst();
    return deleted(result);
  },
};

const callbacks: SweptKind = {
  table: 'callbacks',
  time: 'delivered_at',
  id: 'id',
  async remove(db, _dialect, ids, olderThan) {
    const result = await db
      .deleteFrom('callbacks as c')
      .where('c.id', 'in', ids)
      .where('c.state', '=', 'delivered')
      .where('c.delivered_at', '<', olderThan)
      .where(runNotActive(db, 'c.workflow_run_id'))
      .executeTakeFirst();
    return deleted(result);
  },
};

/**
 * Webhook deliveries that stopped moving. The sweep order's id is the message id, which the rows
 * of one event share across webhooks: the delete takes every finished row of those messages.
 */
const webhookDeliveries: SweptKind = {
  table: 'webhook_deliveries',
  time: 'finished_at',
  id: 'message_id',
  async remove(db, _dialect, ids, olderThan) {
    const result = await db
      .deleteFrom('webhook_deliveries')
      .where('message_id', 'in', ids)
      .where('status', '!=', 'pending')
      .where('finished_at', '<', olderThan)
      .executeTakeFirst();
    return deleted(result);
  },
};

/**
 * Rollouts in a final phase, with their members. A final phase is never left, so the ids read here
 * stay deletable until the deletes below (in the same transaction); the members go by an id list,
 * which both engines serve from the members' primary key.
 */
const rollouts: SweptKind = {
  table: 'rollouts',
  time: 'finished_at',
  id: 'id',
  async remove(db, _dialect, ids, olderThan) {
    const finished = await db
      .selectFrom('rollouts')
      .select('id')
      .where('id', 'in', ids)
      .where('phase', 'in', FINAL_ROLLOUT_PHASES)
      .where('finished_at', '<', olderThan)
      .execute();
    if (finished.length === 0) return 0n;
    const gone = finished.map((row) => row.id);
    await db.deleteFrom('rollout_members').where('rollout_id', 'in', gone).execute();
    const result = await db.deleteFrom('rollouts').where('id', 'in', gone).executeTakeFirst();
    return deleted(result);
  },
};

const KINDS: Readonly<Record<RetentionKind, SweptKind>> = {
  events,
  rollouts,
  runs,
  executions,
  callbacks,
  webhookDeliveries,
};

/** Up to `limit` rows settled before the cutoff, after the cursor, in sweep order. */
async function expiredRows(db: Executor, kind: SweptKind, batch: RetentionBatch): Promise<RetentionCursor[]> {
  const time = sql.ref(kind.time);
  const id = sql.ref(kind.id);
  const after =
    batch.after === null
      ? sql``
      : sql`and (${time}, ${id}) > (${batch.after.at}, ${cursorId(kind, batch.after)})`;
  const { rows } = await sql<{ at: string; id: string | number }>`
    select ${time} as at, ${id} as id from ${sql.table(kind.table)}
    where ${time} < ${batch.olderThan} ${after}
    order by ${time}, ${id} limit ${batch.limit}`.execute(db);
  return rows.map((row) => ({ at: row.at, id: String(row.id) }));
}

/** An event's id is its numeric seq; the others are text. */
function cursorId(kind: SweptKind, cursor: RetentionCursor): string | number {
  return kind === events ? Number(cursor.id) : cursor.id;
}

export class KyselyRetentionRepository implements RetentionRepository {
  constructor(private readonly ctx: StoreContext) {}

  async sweep(kind: RetentionKind, batch: RetentionBatch): Promise<RetentionBatchResult> {
    const swept = KINDS[kind];
    return transaction(this.ctx, async (trx) => {
      await this.ctx.dialect.lockRetentionSweep(trx);
      const rows = await expiredRows(trx, swept, batch);
      if (rows.length === 0) return { examined: 0, deleted: 0, last: null };
      const ids = rows.map((row) => row.id);
      const count = await swept.remove(trx, this.ctx.dialect, ids, batch.olderThan);
      return { examined: rows.length, deleted: Number(count), last: rows[rows.length - 1] ?? null };
    });
  }
}
