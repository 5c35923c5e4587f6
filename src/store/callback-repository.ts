/**
 * The callback outbox and its dead letters (docs/architecture.md, "Callbacks and the event stream"). Rows are
 * written by `executions.transition` in the status change's own transaction (`insertCallback`), and
 * handed to this process's dispatcher after the commit; the dispatcher delivers those, reads due
 * rows (its poll, for rows a crash or another replica left), and marks each delivered or failed. Only `pending` rows move on their own;
 * `dead` rows wait for a human to `redrive` them.
 */
import type { Insertable, Selectable } from 'kysely';
import {
  isSettledStatus,
  type CallbackPayload,
  type CallbackRecord,
  type CallbackState,
} from '../domain/compute-callback.js';
import { newId } from '../domain/ids.js';
import { decodeCursor, nowIso, pageOf } from './codec.js';
import type { StoreContext, Transaction } from './context.js';
import { preparedQuery, preparedQueryFamily } from './prepared-query.js';
import type { CallbacksTable } from './schema.js';
import type { CallbackRepository, Page } from './store.js';

function toCallback(row: Selectable<CallbacksTable>): CallbackRecord {
  return {
    id: row.id,
    executionId: row.execution_id,
    workflowRunId: row.workflow_run_id,
    tenantId: row.tenant_id,
    payload: JSON.parse(row.payload) as CallbackPayload,
    state: row.state as CallbackState,
    attempts: Number(row.attempts),
    nextAttemptAt: Number(row.next_attempt_at),
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

/** Outbox statements of every execution status change and delivery, compiled once. */
const callbackQueries = {
  insert: preparedQuery((db, a: Insertable<CallbacksTable>) =>
    db.insertInto('callbacks').values({
      id: a.id,
      execution_id: a.execution_id,
      workflow_run_id: a.workflow_run_id,
      tenant_id: a.tenant_id,
      payload: a.payload,
      state: a.state,
      attempts: a.attempts,
      next_attempt_at: a.next_attempt_at,
      created_at: a.created_at,
      delivered_at: a.delivered_at,
    }),
  ),
  /** The dispatcher's poll (once a second per process, even when idle). */
  listDue: preparedQuery((db, a: { now: number; limit: number }) =>
    db
      .selectFrom('callbacks')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', a.now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(a.limit),
  ),
  nextDueAt: preparedQuery((db, _a: Record<string, never>) =>
    db
      .selectFrom('callbacks')
      .select((eb) => eb.fn.min('next_attempt_at').as('next'))
      .where('state', '=', 'pending'),
  ),
  /** Shape: how many ids (`id_0`, `id_1`, …). */
  markDelivered: preparedQueryFamily(
    (count: number) => String(count),
    (db, a: Readonly<Record<string, string>>, count) =>
      db
        .updateTable('callbacks')
        .set({ state: 'delivered', delivered_at: a['at']! })
        .where(
          'id',
          'in',
          Array.from({ length: count }, (_, i) => a[`id_${i}`]!),
        )
        .where('state', '!=', 'delivered'),
  ),
};

/**
 * Queues `payload` for delivery now (state pending, no attempts yet) inside the caller's transaction,
 * marks it for the change signal and hands the row over with it: after the commit, this process's
 * dispatcher delivers it without reading it back. A status no workflow waits for (`running`: only
 * a settled status resolves a promise) has nothing to deliver: its row is written `delivered`, as
 * the dispatcher would have marked it, and is not handed over (docs/architecture.md, "Callbacks
 * and the event stream").
 */
export async function insertCallback(tx: Transaction, payload: CallbackPayload): Promise<void> {
  const callback = newCallback(payload);
  await callbackQueries.insert.affected(tx, callbackRow(callback));
  if (!needsDelivery(callback)) return;
  tx.changed('callbacks');
  tx.handOff(callback);
}

/** Whether the dispatcher has anything to do for a new callback (`newCallback` writes the others delivered). */
export function needsDelivery(callback: CallbackRecord): boolean {
  return callback.state === 'pending';
}

/** A new callback for `payload` (pending, or delivered when nothing waits for it), as a read of its row would give it. */
export function newCallback(payload: CallbackPayload): CallbackRecord {
  const text = JSON.stringify(payload);
  const createdAt = nowIso();
  const settled = isSettledStatus(payload.status);
  return {
    id: newId(),
    executionId: payload.executionId,
    workflowRunId: payload.workflowRunId,
    tenantId: payload.tenantId,
    // What a read of the row would give: the stored JSON, not the caller's object.
    payload: JSON.parse(text) as CallbackPayload,
    state: settled ? 'pending' : 'delivered',
    attempts: 0,
    nextAttemptAt: Date.now(),
    lastError: null,
    createdAt,
    deliveredAt: settled ? null : createdAt,
  };
}

/** The columns of `callback`'s new row. */
export function callbackRow(callback: CallbackRecord) {
  return {
    id: callback.id,
    execution_id: callback.executionId,
    workflow_run_id: callback.workflowRunId,
    tenant_id: callback.tenantId,
    payload: JSON.stringify(callback.payload),
    state: callback.state,
    attempts: callback.attempts,
    next_attempt_at: callback.nextAttemptAt,
    created_at: callback.createdAt,
    delivered_at: callback.deliveredAt,
  };
}

export class KyselyCallbackRepository implements CallbackRepository {
  constructor(private readonly ctx: StoreContext) {}

  async listDue(now: number, limit: number): Promise<readonly CallbackRecord[]> {
    const rows = await callbackQueries.listDue.rows(this.ctx, { now, limit });
    return rows.map(toCallback);
  }

  /** Idempotent; a callback delivered once stays delivered. One statement for all of `ids`. */
  async markDelivered(ids: readonly string[], at: string): Promise<void> {
    if (ids.length === 0) return;
    const args: Record<string, string> = { at };
    ids.forEach((id, i) => (args[`id_${i}`] = id));
    await callbackQueries.markDelivered.affected(this.ctx, ids.length, args);
  }

  /** Applies only to a pending callback (a concurrent delivery or redrive wins). */
  async markAttemptFailed(
    id: string,
    update: { attempts: number; nextAttemptAt: number; lastError: string; dead: boolean },
  ): Promise<void> {
    await this.ctx.db
      .updateTable('callbacks')
      .set({
        attempts: update.attempts,
        next_attempt_at: update.nextAttemptAt,
        last_error: update.lastError,
        state: update.dead ? 'dead' : 'pending',
      })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .execute();
  }

  async get(id: string): Promise<CallbackRecord | undefined> {
    const row = await this.ctx.db.selectFrom('callbacks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCallback(row);
  }

  /** Oldest first (ids are uuid v7), keyset-paginated by id. */
  async list(query: {
    state?: CallbackState;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<CallbackRecord>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('callbacks').selectAll();
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.cursor) q = q.where('id', '>', decodeCursor(query.cursor, 1)[0]!);
    const rows = await q
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return pageOf(rows, limit, toCallback, (row) => [row.id]);
  }

  /** Keeps `lastError` for the record; resets attempts and makes the callback due at `now`. */
  async redrive(id: string, now: number): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('callbacks')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now })
      .where('id', '=', id)
      .where('state', '=', 'dead')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const row = await callbackQueries.nextDueAt.first(this.ctx, {});
    return row?.next == null ? null : Number(row.next);
  }
}
