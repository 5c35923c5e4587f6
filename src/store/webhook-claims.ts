/**
 * The dispatcher's side of the webhook outbox (contract in webhook-store.ts): leasing due
 * deliveries across webhooks in one transaction, recording many outcomes in one transaction, the
 * next due time and the outbox counts. Batches, because on SQLite every transaction waits for a
 * group commit shared with the writes that produce the events (docs/architecture.md, "Webhooks and
 * callbacks").
 */
import { sql, type ExpressionBuilder, type Insertable, type Selectable } from 'kysely';
import type { DeliveryStatus, WebhookEvent } from '../domain/webhook.js';
import { nowIso } from './codec.js';
import { transaction, type Executor, type StoreContext } from './context.js';
import type {
  Database,
  WebhookDeliveriesTable,
  WebhookDeliveryAttemptsTable,
  WebhooksTable,
} from './schema.js';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  ClaimRequest,
  ClaimResult,
  WebhookClaim,
  WebhookOutboxStats,
  WebhookTarget,
} from './webhook-store.js';

export type WebhookRow = Selectable<WebhooksTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** Webhooks looked at per claim (each gets one UPDATE in the claim's transaction). */
const DUE_WEBHOOKS_PER_CLAIM = 100;
/** Attempt rows per multi-row INSERT (7 parameters each: well within both databases' limits). */
const ATTEMPT_ROWS_PER_INSERT = 200;

/** Ids of the webhooks whose deliveries the dispatcher may claim. */
export const enabledIds = (db: Executor) => db.selectFrom('webhooks').select('id').where('enabled', '=', 1);

const unleasedAt = (now: number) => (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) =>
  eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);

function toClaimed(row: DeliveryRow): ClaimedDelivery {
  const queued = Date.parse(row.created_at);
  return {
    webhookId: row.webhook_id,
    messageId: row.message_id,
    eventType: row.event_type,
    event: JSON.parse(row.payload) as WebhookEvent,
    attempts: Number(row.attempts),
    windowStart: Number(row.window_start),
    queuedAt: Number.isFinite(queued) ? queued : Number(row.window_start),
    traceparent: row.traceparent,
  };
}

/** Enabled webhooks with due, unleased deliveries, except `busy` ones. */
async function dueWebhooks(trx: Executor, now: number, busy: readonly string[]): Promise<WebhookRow[]> {
  let due = trx
    .selectFrom('webhook_deliveries')
    .select('webhook_id')
    .distinct()
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where(unleasedAt(now))
    .where('webhook_id', 'in', enabledIds(trx));
  if (busy.length > 0) due = due.where('webhook_id', 'not in', busy);
  const ids = (await due.limit(DUE_WEBHOOKS_PER_CLAIM).execute()).map((row) => row.webhook_id);
  if (ids.length === 0) return [];
  return trx
    .selectFrom('webhooks')
    .selectAll()
    .where('id', 'in', ids)
    .where('enabled', '=', 1)
    .orderBy('id')
    .execute();
}

/**
 * Leases up to `limit` due deliveries of one webhook, oldest due first. The pick is a
 * materialized CTE, evaluated once: as an `IN (subquery)` PostgreSQL may run it again for each
 * candidate row, and each run (skipping rows this UPDATE already leased) adds more, past the limit.
 */
function leaseDue(
  ctx: StoreContext,
  trx: Executor,
  webhookId: string,
  lease: { owner: string; now: number; leaseUntil: number; limit: number },
): Promise<DeliveryRow[]> {
  const unleased = unleasedAt(lease.now);
  return trx
    .with(
      (cte) => cte('picked').materialized(),
      (db) =>
        ctx.dialect.skipLocked(
          db
            .selectFrom('webhook_deliveries')
            .select('message_id')
            .where('webhook_id', '=', webhookId)
            .where('status', '=', 'pending')
            .where('next_attempt_at', '<=', lease.now)
            .where(unleased)
            .orderBy('next_attempt_at')
            .limit(lease.limit),
        ),
    )
    .updateTable('webhook_deliveries')
    .set({ lease_owner: lease.owner, lease_until: lease.leaseUntil })
    .where('webhook_id', '=', webhookId)
    .where('message_id', 'in', (eb) => eb.selectFrom('picked').select('picked.message_id'))
    .where('status', '=', 'pending')
    .where(unleased)
    .returningAll()
    .execute();
}

/**
 * One transaction for the whole claim: on SQLite each one waits for a group commit, so a separate
 * read first would double the wait of every drain. `targetOf` opens a webhook's secrets; a webhook
 * whose secrets do not open is reported in `failures` (its leases run out), the others are claimed.
 */
export async function claimDue(
  ctx: StoreContext,
  request: ClaimRequest,
  targetOf: (webhook: WebhookRow) => WebhookTarget,
): Promise<ClaimResult> {
  const { owner, now, leaseUntil, perWebhook, inFlight } = request;
  if (request.limit <= 0) return { claims: [], failures: [] };
  const free = (id: string) => perWebhook - (inFlight.get(id) ?? 0);
  const busy = [...inFlight.keys()].filter((id) => free(id) <= 0);
  const leased = await transaction(ctx, async (trx) => {
    const out: { webhook: WebhookRow; rows: DeliveryRow[] }[] = [];
    let left = request.limit;
    for (const webhook of await dueWebhooks(trx, now, busy)) {
      const limit = Math.min(free(webhook.id), left);
      if (limit <= 0) continue;
      const rows = await leaseDue(ctx, trx, webhook.id, { owner, now, leaseUntil, limit });
      if (rows.length === 0) continue;
      out.push({ webhook, rows });
      left -= rows.length;
      if (left <= 0) break;
    }
    return out;
  });
  const claims: WebhookClaim[] = [];
  const failures: { webhookId: string; error: unknown }[] = [];
  for (const { webhook, rows } of leased) {
    try {
      claims.push({ target: targetOf(webhook), deliveries: rows.map(toClaimed) });
    } catch (error) {
      failures.push({ webhookId: webhook.id, error });
    }
  }
  return { claims, failures };
}

/** Applies one outcome if `owner` holds its lease; the attempt row to insert when it did. */
async function applyOutcome(
  trx: Executor,
  owner: string,
  { webhookId, messageId, record }: AttemptOutcome,
  at: string,
): Promise<Insertable<WebhookDeliveryAttemptsTable> | undefined> {
  const { attempt } = record;
  const updated = await trx
    .updateTable('webhook_deliveries')
    .set({
      status: record.status,
      attempts: attempt.attempt,
      next_attempt_at: record.nextAttemptAt ?? Date.now(),
      lease_owner: null,
      lease_until: null,
      last_status_code: attempt.statusCode,
      last_error: attempt.error,
      finished_at: record.status !== 'pending' ? at : null,
      ...(record.status === 'delivered' && { delivered_at: at }),
    })
    .where('webhook_id', '=', webhookId)
    .where('message_id', '=', messageId)
    .where('status', '=', 'pending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0) return undefined;
  if (record.disableWebhook !== undefined) {
    await trx
      .updateTable('webhooks')
      .set({ enabled: 0, disabled_reason: record.disableWebhook, updated_at: at })
      .where('id', '=', webhookId)
      .execute();
  }
  return {
    webhook_id: webhookId,
    message_id: messageId,
    attempt: attempt.attempt,
    started_at: attempt.startedAt,
    duration_ms: Math.round(attempt.durationMs),
    status_code: attempt.statusCode,
    error: attempt.error,
  };
}

export async function recordAttempts(
  ctx: StoreContext,
  owner: string,
  outcomes: readonly AttemptOutcome[],
): Promise<readonly boolean[]> {
  if (outcomes.length === 0) return [];
  const at = nowIso();
  return transaction(ctx, async (trx) => {
    const results: boolean[] = [];
    const attempts: Insertable<WebhookDeliveryAttemptsTable>[] = [];
    for (const outcome of outcomes) {
      const row = await applyOutcome(trx, owner, outcome, at);
      results.push(row !== undefined);
      if (row) attempts.push(row);
    }
    for (let i = 0; i < attempts.length; i += ATTEMPT_ROWS_PER_INSERT) {
      await trx
        .insertInto('webhook_delivery_attempts')
        .values(attempts.slice(i, i + ATTEMPT_ROWS_PER_INSERT))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return results;
  });
}

export async function outboxStats(ctx: StoreContext): Promise<WebhookOutboxStats> {
  const count = async (status: DeliveryStatus) => {
    const row = await ctx.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  const [pending, dead] = await Promise.all([count('pending'), count('dead')]);
  return { pending, dead };
}

/** When the next delivery of an enabled webhook becomes claimable (its due time or lease end). */
export async function nextDueAt(ctx: StoreContext): Promise<number | null> {
  const row = await ctx.db
    .selectFrom('webhook_deliveries')
    .select(
      sql<
        number | null
      >`min(case when lease_until is null or lease_until < next_attempt_at then next_attempt_at else lease_until end)`.as(
        'next',
      ),
    )
    .where('status', '=', 'pending')
    .where('webhook_id', 'in', enabledIds(ctx.db))
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}
