/**
 * Compute executions (docs/architecture.md, "Compute"). Every status change is a compare-and-set on `status`
 * that, in the same transaction (or statement), appends the history row, the tenant stream event and
 * (when asked) the callback outbox row — all of them or none. Transitions outside EXECUTION_TRANSITIONS
 * are refused before touching the database, so every stored history is a valid path.
 */
import { sql, type Insertable, type Updateable } from 'kysely';
import {
  canMoveExecution,
  type ComputeExecution,
  type ExecutionHistoryEntry,
} from '../domain/compute-execution.js';
import type { ExecutionStatus } from '../domain/tenant.js';
import { InvalidTransitionError, NotFoundError } from '../domain/errors.js';
import type { HeldJournal } from '../domain/held-journal.js';
import type { InsertedExecution } from '../domain/execution-ledger.js';
import type { TenantStatusWrite } from '../domain/tenant-change.js';
import { callbackRow, insertCallback, needsDelivery, newCallback } from './callback-repository.js';
import { decodeCursor, pageOf } from './codec.js';
import {
  EXECUTION_ACTOR,
  executionEvent,
  executionReason,
  executionRow,
  toExecution,
  toHistoryEntry,
  transitionValues,
} from './compute-execution-rows.js';
import { transaction, type StoreContext } from './context.js';
import { preparedQuery, preparedQueryFamily, type QueryTarget } from './prepared-query.js';
import { insertExecutionEvents } from './webhook-outbox.js';
import { foldedExecutionInsert, foldedExecutionTransition, tenantStatusArgs } from './folded-writes.js';
import type { ComputeExecutionHistoryTable, ComputeExecutionsTable } from './schema.js';
import type { ComputeExecutionRepository, ExecutionListQuery, ExecutionTransition, Page } from './store.js';

const IN_FLIGHT = ['pending', 'running'] as const;

type ExecutionValues = Updateable<ComputeExecutionsTable>;
interface TransitionShape {
  /** Columns the transition sets, in order. */
  readonly columns: readonly (keyof ExecutionValues)[];
  /** How many statuses the execution may be moving from. */
  readonly from: number;
}

/** Statements of every execution status change, compiled once (per transition shape). */
const executionQueries = {
  get: preparedQuery((db, a: { executionId: string }) =>
    db.selectFrom('compute_executions').selectAll().where('execution_id', '=', a.executionId),
  ),
  /**
   * The next history row, numbered after the execution's last one in the same statement. Casts
   * keep PostgreSQL from typing the bare parameters of the select list as text.
   */
  appendHistory: preparedQuery((db, a: Omit<Insertable<ComputeExecutionHistoryTable>, 'seq'>) =>
    db
      .insertInto('compute_execution_history')
      .columns(['execution_id', 'seq', 'status', 'attempt', 'at', 'details'])
      .expression(
        db
          .selectFrom('compute_execution_history')
          .select([
            sql<string>`cast(${a.execution_id} as text)`.as('execution_id'),
            sql<number>`coalesce(max(seq), 0) + 1`.as('seq'),
            sql<string>`cast(${a.status} as text)`.as('status'),
            sql<number>`cast(${a.attempt} as integer)`.as('attempt'),
            sql<string>`cast(${a.at} as text)`.as('at'),
            sql<string>`cast(${a.details} as text)`.as('details'),
          ])
          .where('execution_id', '=', a.execution_id),
      ),
  ),
  transition: preparedQueryFamily(
    (shape: TransitionShape) => `${shape.columns.join()}|${shape.from}`,
    (db, a: Readonly<Record<string, unknown>>, shape) => {
      const set = Object.fromEntries(shape.columns.map((c) => [c, a[`set_${c}`]])) as ExecutionValues;
      const from = Array.from({ length: shape.from }, (_, i) => a[`from_${i}`] as ExecutionStatus);
      return db
        .updateTable('compute_executions')
        .set(set)
        .where('execution_id', '=', a.executionId as string)
        .where('status', 'in', from)
        .returningAll();
    },
  ),
};

async function appendHistory(
  on: QueryTarget,
  e: ComputeExecution,
  at: string,
  details: object,
): Promise<void> {
  await executionQueries.appendHistory.affected(on, {
    execution_id: e.executionId,
    status: e.status,
    attempt: e.attempt,
    at,
    details: JSON.stringify(details),
  });
}

export class KyselyComputeExecutionRepository implements ComputeExecutionRepository {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * NotFoundError when the tenant does not exist (foreign key); never a unique-constraint error.
   * `show` is made in the insert's statement (`insertRunning`).
   */
  async insertIfAbsent(
    execution: ComputeExecution,
    running?: ExecutionTransition,
    journal?: HeldJournal,
    show?: TenantStatusWrite,
  ): Promise<InsertedExecution> {
    try {
      const inserted = await this.insertNew(execution, running, journal, show);
      if (inserted) return { ...inserted, created: true };
    } catch (error) {
      if (this.ctx.dialect.isForeignKeyViolation(error))
        throw new NotFoundError('tenant', execution.tenantId);
      throw error;
    }
    const existing = await this.get(execution.executionId);
    if (!existing)
      throw new Error(`compute execution ${execution.executionId} vanished after a conflicting insert`);
    return { execution: existing, created: false };
  }

  /**
   * The execution with its history row and event, unless its id exists; with `running`, moved to
   * `running` as well (`insertRunning`). One statement (folded-writes.ts; the event is the
   * inserted execution's, which is `execution` as stored), carrying `journal`'s held entries.
   */
  private async insertNew(
    execution: ComputeExecution,
    running?: ExecutionTransition,
    journal?: HeldJournal,
    show?: TenantStatusWrite,
  ): Promise<Omit<InsertedExecution, 'created'> | undefined> {
    if (running) return this.insertRunning(execution, running, journal, show);
    const inserted = await foldedExecutionInsert(
      this.ctx,
      executionRow(execution),
      [executionEvent(execution)],
      undefined,
      journal,
    );
    return inserted && { execution: toExecution(inserted.row) };
  }

  /**
   * A new execution and its move to `running` at once: the row inserted as it is after the move,
   * its two history rows, the callback and both events — the same rows an insert and a
   * `transition` would write, in one statement (folded-writes.ts); the callback is handed over
   * as a transaction's would be. The statement also makes `show`, the tenant's compare-and-set,
   * once the row is inserted.
   */
  private async insertRunning(
    execution: ComputeExecution,
    t: ExecutionTransition,
    journal?: HeldJournal,
    show?: TenantStatusWrite,
  ): Promise<Omit<InsertedExecution, 'created'> | undefined> {
    const sameAttempt = t.attempt === undefined || t.attempt === execution.attempt;
    if (execution.status !== 'pending' || t.to !== 'running' || !t.from.includes('pending') || !sameAttempt)
      throw new InvalidTransitionError('only a new pending execution moves to running as it is inserted', {
        from: t.from,
        to: t.to,
      });
    const row = { ...executionRow(execution), ...transitionValues(t) };
    const moved = toExecution(row);
    const callback = t.callback ? newCallback(t.callback) : null;
    const details = { ...t.details, ...(t.error && { errorCode: t.error.code }) };
    const tenant = show && tenantStatusArgs(show);
    const inserted = await foldedExecutionInsert(
      this.ctx,
      row,
      [executionEvent(execution), executionEvent(moved)],
      {
        at: t.at,
        details: JSON.stringify(details),
        callback: callback && callbackRow(callback),
        ...(tenant && { tenant }),
      },
      journal,
    );
    if (!inserted) return undefined;
    const delivery = callback && needsDelivery(callback) ? callback : null;
    if (delivery) {
      this.ctx.changes.handOff([delivery]);
      this.ctx.changes.notify(['callbacks']);
    }
    const shown =
      inserted.shown === undefined ? {} : ({ shown: inserted.shown ? 'written' : 'stale' } as const);
    return { execution: toExecution(inserted.row), ...shown };
  }

  async transition(executionId: string, t: ExecutionTransition): Promise<ComputeExecution | undefined> {
    const from = t.from.filter((status) => canMoveExecution(status, t.to));
    if (from.length === 0) {
      throw new InvalidTransitionError(`compute execution cannot move from ${t.from.join('|')} to ${t.to}`, {
        from: t.from,
        to: t.to,
      });
    }
    const values = transitionValues(t);
    const columns = Object.keys(values) as (keyof ExecutionValues)[];
    const args: Record<string, unknown> = { executionId };
    for (const column of columns) args[`set_${column}`] = values[column];
    from.forEach((status, i) => (args[`from_${i}`] = status));
    if (t.to !== 'failed') {
      try {
        return await this.foldedTransition(executionId, t, values, from);
      } catch (error) {
        // PostgreSQL: a concurrent transition of the same execution numbered its history row
        // first (the statement reads the history in its own snapshot): the transaction numbers
        // it afresh. (SQLite's trigger numbers it on the single writer: never taken.)
        if (!this.ctx.dialect.isUniqueViolation(error)) throw error;
      }
    }
    return transaction(this.ctx, async (_trx, tx) => {
      const row = await executionQueries.transition.first(tx, { columns, from: from.length }, args);
      if (!row) return undefined;
      const execution = toExecution(row);
      const details = { ...t.details, ...(t.error && { errorCode: t.error.code }) };
      await appendHistory(tx, execution, t.at, details);
      if (t.callback) await insertCallback(tx, t.callback);
      await insertExecutionEvents(tx, this.ctx, execution, [executionEvent(execution)], t.at);
      return execution;
    });
  }

  /**
   * A status that carries no error and no webhook event (running, succeeded): the transition's
   * update, history row, callback row and event in one statement (folded-writes.ts: data-modifying
   * CTEs on PostgreSQL, a view insert on SQLite), one round trip where the transaction takes six.
   */
  private async foldedTransition(
    executionId: string,
    t: ExecutionTransition,
    values: ExecutionValues,
    from: readonly ExecutionStatus[],
  ): Promise<ComputeExecution | undefined> {
    const callback = t.callback ? newCallback(t.callback) : null;
    const event = { type: 'ExecutionStatusChanged', actor: EXECUTION_ACTOR, reason: executionReason(t.to) };
    const details = JSON.stringify({ ...t.details, ...(t.error && { errorCode: t.error.code }) });
    const row = await foldedExecutionTransition(
      this.ctx,
      executionId,
      values,
      from,
      event,
      t.at,
      details,
      callback && callbackRow(callback),
    );
    if (!row) return undefined;
    const delivery = callback && needsDelivery(callback) ? callback : null;
    if (delivery) this.ctx.changes.handOff([delivery]);
    this.ctx.changes.notify(new Set(delivery ? (['events', 'callbacks'] as const) : (['events'] as const)));
    return toExecution(row);
  }

  async get(executionId: string): Promise<ComputeExecution | undefined> {
    const row = await executionQueries.get.first(this.ctx, { executionId });
    return row && toExecution(row);
  }

  async history(executionId: string): Promise<readonly ExecutionHistoryEntry[]> {
    const rows = await this.ctx.db
      .selectFrom('compute_execution_history')
      .selectAll()
      .where('execution_id', '=', executionId)
      .orderBy('seq')
      .execute();
    return rows.map(toHistoryEntry);
  }

  /** Newest first, keyset-paginated on (createdAt, executionId). */
  async list(query: ExecutionListQuery): Promise<Page<ComputeExecution>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('compute_executions').selectAll();
    if (query.tenantId !== undefined) q = q.where('tenant_id', '=', query.tenantId);
    if (query.workflowRunId !== undefined) q = q.where('workflow_run_id', '=', query.workflowRunId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.cursor) {
      const [createdAt, id] = decodeCursor(query.cursor, 2) as [string, string];
      q = q.where((eb) =>
        eb.or([
          eb('created_at', '<', createdAt),
          eb.and([eb('created_at', '=', createdAt), eb('execution_id', '<', id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('execution_id', 'desc')
      .limit(limit + 1)
      .execute();
    return pageOf(rows, limit, toExecution, (row) => [row.created_at, row.execution_id]);
  }

  /**
   * Orphans: pending/running executions whose lease expired (ended at or before `now`: released
   * leases included), or that never had a lease and were created (or last started) more than
   * `leaseMs` ago. Oldest first.
   */
  async claimOrphans(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    executionId?: string,
  ): Promise<readonly ComputeExecution[]> {
    const { db, dialect } = this.ctx;
    const cutoff = new Date(now - leaseMs).toISOString();
    let orphans = db
      .selectFrom('compute_executions')
      .select('execution_id')
      .where('status', 'in', IN_FLIGHT)
      .where((eb) =>
        eb.or([
          eb('lease_expires_at', '<=', now),
          eb.and([
            eb('lease_expires_at', 'is', null),
            eb(eb.fn.coalesce('started_at', 'created_at'), '<', cutoff),
          ]),
        ]),
      )
      .orderBy('created_at')
      .limit(limit);
    if (executionId !== undefined) orphans = orphans.where('execution_id', '=', executionId);
    const rows = await db
      .updateTable('compute_executions')
      .set({ lease_owner: owner, lease_expires_at: now + leaseMs })
      .where('execution_id', 'in', dialect.skipLocked(orphans))
      .returningAll()
      .execute();
    return rows.map(toExecution).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Only while the execution is in flight, and only when the lease is free or already `owner`'s. */
  async renewLease(executionId: string, owner: string, until: number): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('compute_executions')
      .set({ lease_owner: owner, lease_expires_at: until })
      .where('execution_id', '=', executionId)
      .where('status', 'in', IN_FLIGHT)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseLeases(owner: string, at: number): Promise<number> {
    const result = await this.ctx.db
      .updateTable('compute_executions')
      .set({ lease_owner: null, lease_expires_at: at })
      .where('lease_owner', '=', owner)
      .where('status', 'in', IN_FLIGHT)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
