/**
 * Webhook subscriptions and their delivery outbox on SQLite and PostgreSQL (see webhook-store.ts
 * for the contract and webhook-outbox.ts for the write side). Secrets are sealed per webhook
 * (`webhook:<id>`) when secrets at rest are configured.
 */
import { sql, type ExpressionBuilder, type Insertable, type Selectable } from 'kysely';
import { newId } from '../domain/ids.js';
import { isSealed } from '../domain/secret-key-ring.js';
import { currentTraceparent } from '../domain/tracing.js';
import {
  messageIdOf,
  type DeliveryStatus,
  type Webhook,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEvent,
} from '../domain/webhook.js';
import { decodeCursor, fromFlag, nowIso, pageOf, toFlag } from './codec.js';
import { transaction, type Executor, type StoreContext } from './context.js';
import type {
  Database,
  WebhookDeliveriesTable,
  WebhookDeliveryAttemptsTable,
  WebhooksTable,
} from './schema.js';
import type { Page } from './store.js';
import { insertWebhookEvent } from './webhook-outbox.js';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  ClaimRequest,
  ClaimResult,
  NewWebhook,
  RetryOutcome,
  WebhookClaim,
  WebhookOutboxStats,
  WebhookPatch,
  WebhookRepository,
  WebhookTarget,
} from './webhook-store.js';

type WebhookRow = Selectable<WebhooksTable>;
type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export function eventFilterColumn(events: readonly string[]): string {
  return `|${events.join('|')}|`;
}

function toWebhook(row: WebhookRow): Webhook {
  const expires = row.previous_secret_expires_at === null ? null : Number(row.previous_secret_expires_at);
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    enabled: fromFlag(row.enabled),
    disabledReason: row.disabled_reason,
    previousSecretExpiresAt:
      expires !== null && row.previous_secret !== null ? new Date(expires).toISOString() : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toAttempt(row: Selectable<WebhookDeliveryAttemptsTable>): WebhookAttempt {
  return {
    attempt: Number(row.attempt),
    startedAt: row.started_at,
    durationMs: Number(row.duration_ms),
    statusCode: row.status_code === null ? null : Number(row.status_code),
    error: row.error,
  };
}

function toDelivery(row: DeliveryRow, attempts: readonly WebhookAttempt[]): WebhookDelivery {
  const status = row.status as DeliveryStatus;
  return {
    id: row.message_id,
    webhookId: row.webhook_id,
    eventType: row.event_type,
    status,
    attempts: Number(row.attempts),
    nextAttemptAt: status === 'pending' ? new Date(Number(row.next_attempt_at)).toISOString() : null,
    windowStart: new Date(Number(row.window_start)).toISOString(),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: row.last_error,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    attemptLog: attempts,
  };
}

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

/** Webhooks looked at per claim (each gets one UPDATE in the claim's transaction). */
const DUE_WEBHOOKS_PER_CLAIM = 100;
/** Attempt rows per multi-row INSERT (7 parameters each: well within both databases' limits). */
const ATTEMPT_ROWS_PER_INSERT = 200;

/** Rows of webhooks whose deliveries the dispatcher may claim. */
const enabledIds = (db: Executor) => db.selectFrom('webhooks').select('id').where('enabled', '=', 1);

export class KyselyWebhookRepository implements WebhookRepository {
  constructor(private readonly ctx: StoreContext) {}

  private seal(id: string, secret: string): string {
    return this.ctx.secrets ? this.ctx.secrets.ring.seal(secret, `webhook:${id}`) : secret;
  }

  private open(id: string, stored: string): string {
    if (!isSealed(stored) || !this.ctx.secrets) return stored;
    return this.ctx.secrets.ring.open(stored, `webhook:${id}`);
  }

  async create(input: NewWebhook): Promise<Webhook> {
    const id = newId();
    const now = nowIso();
    const row: WebhookRow = {
      id,
      url: input.url,
      description: input.description,
      events: JSON.stringify(input.events),
      event_filter: eventFilterColumn(input.events),
      enabled: toFlag(input.enabled),
      disabled_reason: null,
      secret: this.seal(id, input.secret),
      previous_secret: null,
      previous_secret_expires_at: null,
      created_at: now,
      updated_at: now,
    };
    await this.ctx.db.insertInto('webhooks').values(row).execute();
    return toWebhook(row);
  }

  async get(id: string): Promise<Webhook | undefined> {
    const row = await this.ctx.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toWebhook(row);
  }

  async list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Webhook>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('webhooks').selectAll();
    if (query.cursor) q = q.where('id', '>', decodeCursor(query.cursor, 1)[0]!);
    const rows = await q
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return pageOf(rows, limit, toWebhook, (row) => [row.id]);
  }

  async update(id: string, patch: WebhookPatch): Promise<Webhook | undefined> {
    const values: Partial<WebhookRow> = { updated_at: nowIso() };
    if (patch.url !== undefined) values.url = patch.url;
    if (patch.description !== undefined) values.description = patch.description;
    if (patch.events !== undefined) {
      values.events = JSON.stringify(patch.events);
      values.event_filter = eventFilterColumn(patch.events);
    }
    if (patch.enabled !== undefined) {
      values.enabled = toFlag(patch.enabled);
      if (patch.enabled) values.disabled_reason = null;
    }
    const row = await this.ctx.db
      .updateTable('webhooks')
      .set(values)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toWebhook(row);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async rotateSecret(id: string, secret: string, previousExpiresAt: number): Promise<Webhook | undefined> {
    return transaction(this.ctx, async (trx) => {
      const row = await this.ctx.dialect
        .lockForUpdate(trx.selectFrom('webhooks').selectAll().where('id', '=', id))
        .executeTakeFirst();
      if (!row) return undefined;
      const updated = await trx
        .updateTable('webhooks')
        .set({
          secret: this.seal(id, secret),
          previous_secret: row.secret,
          previous_secret_expires_at: previousExpiresAt,
          updated_at: nowIso(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toWebhook(updated);
    });
  }

  async queue(id: string, event: WebhookEvent): Promise<WebhookDelivery | undefined> {
    const webhook = await this.get(id);
    if (!webhook) return undefined;
    const messageId = messageIdOf(newId());
    const now = Date.now();
    await this.ctx.db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: id,
        message_id: messageId,
        event_type: event.type,
        payload: JSON.stringify(event),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        window_start: now,
        created_at: new Date(now).toISOString(),
        traceparent: currentTraceparent() ?? null,
      })
      .execute();
    return this.getDelivery(id, messageId);
  }

  publish(event: WebhookEvent): Promise<string> {
    return transaction(this.ctx, (_trx, tx) => insertWebhookEvent(tx, event));
  }

  async listDeliveries(
    webhookId: string,
    query: { status?: DeliveryStatus | undefined; limit: number; cursor?: string | undefined },
  ): Promise<Page<WebhookDelivery>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.cursor) q = q.where('message_id', '<', decodeCursor(query.cursor, 1)[0]!);
    const rows = await q
      .orderBy('message_id', 'desc')
      .limit(limit + 1)
      .execute();
    const page = pageOf(
      rows,
      limit,
      (row) => row,
      (row) => [row.message_id],
    );
    const attempts = await this.attemptsOf(
      webhookId,
      page.items.map((row) => row.message_id),
    );
    return {
      items: page.items.map((row) => toDelivery(row, attempts.get(row.message_id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  async getDelivery(webhookId: string, messageId: string): Promise<WebhookDelivery | undefined> {
    const row = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    if (!row) return undefined;
    const attempts = await this.attemptsOf(webhookId, [messageId]);
    return toDelivery(row, attempts.get(messageId) ?? []);
  }

  private async attemptsOf(
    webhookId: string,
    messageIds: readonly string[],
  ): Promise<Map<string, WebhookAttempt[]>> {
    const byMessage = new Map<string, WebhookAttempt[]>();
    if (messageIds.length === 0) return byMessage;
    const rows = await this.ctx.db
      .selectFrom('webhook_delivery_attempts')
      .selectAll()
      .where('webhook_id', '=', webhookId)
      .where('message_id', 'in', messageIds)
      .orderBy('message_id')
      .orderBy('attempt')
      .execute();
    for (const row of rows) {
      const list = byMessage.get(row.message_id) ?? [];
      list.push(toAttempt(row));
      byMessage.set(row.message_id, list);
    }
    return byMessage;
  }

  async retryDelivery(webhookId: string, messageId: string, now: number): Promise<RetryOutcome> {
    const result = await this.ctx.db
      .updateTable('webhook_deliveries')
      .set({
        status: 'pending',
        next_attempt_at: now,
        window_start: now,
        lease_owner: null,
        lease_until: null,
        finished_at: null,
      })
      .where('webhook_id', '=', webhookId)
      .where('message_id', '=', messageId)
      .where('status', '!=', 'pending')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return 'retried';
    const exists = await this.getDelivery(webhookId, messageId);
    return exists ? 'pending' : 'missing';
  }

  async claimDue(request: ClaimRequest): Promise<ClaimResult> {
    const { owner, now, leaseUntil, perWebhook, inFlight } = request;
    if (request.limit <= 0) return { claims: [], failures: [] };
    const free = (id: string) => perWebhook - (inFlight.get(id) ?? 0);
    const busy = [...inFlight.keys()].filter((id) => free(id) <= 0);
    const { dialect } = this.ctx;
    const unleased = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) =>
      eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]);
    // One transaction for the whole claim: on SQLite each one waits for a group commit, so a
    // separate read first would double the wait of every drain.
    const leased = await transaction(this.ctx, async (trx) => {
      let dueQuery = trx
        .selectFrom('webhook_deliveries')
        .select('webhook_id')
        .distinct()
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where(unleased)
        .where('webhook_id', 'in', enabledIds(trx));
      if (busy.length > 0) dueQuery = dueQuery.where('webhook_id', 'not in', busy);
      const due = (await dueQuery.limit(DUE_WEBHOOKS_PER_CLAIM).execute()).map((row) => row.webhook_id);
      if (due.length === 0) return [];
      const webhooks = await trx
        .selectFrom('webhooks')
        .selectAll()
        .where('id', 'in', due)
        .where('enabled', '=', 1)
        .orderBy('id')
        .execute();
      const out: { webhook: WebhookRow; rows: DeliveryRow[] }[] = [];
      let left = request.limit;
      for (const webhook of webhooks) {
        const limit = Math.min(free(webhook.id), left);
        if (limit <= 0) continue;
        // The pick is a materialized CTE, evaluated once: as an `IN (subquery)` PostgreSQL may
        // run it again for each candidate row, and each run (skipping rows this UPDATE already
        // leased) adds more, past the limit.
        const rows = await trx
          .with(
            (cte) => cte('picked').materialized(),
            (db) =>
              dialect.skipLocked(
                db
                  .selectFrom('webhook_deliveries')
                  .select('message_id')
                  .where('webhook_id', '=', webhook.id)
                  .where('status', '=', 'pending')
                  .where('next_attempt_at', '<=', now)
                  .where(unleased)
                  .orderBy('next_attempt_at')
                  .limit(limit),
              ),
          )
          .updateTable('webhook_deliveries')
          .set({ lease_owner: owner, lease_until: leaseUntil })
          .where('webhook_id', '=', webhook.id)
          .where('message_id', 'in', (eb) => eb.selectFrom('picked').select('picked.message_id'))
          .where('status', '=', 'pending')
          .where(unleased)
          .returningAll()
          .execute();
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
        claims.push({ target: this.targetOf(webhook), deliveries: rows.map(toClaimed) });
      } catch (error) {
        failures.push({ webhookId: webhook.id, error });
      }
    }
    return { claims, failures };
  }

  private targetOf(webhook: WebhookRow): WebhookTarget {
    const expires = webhook.previous_secret_expires_at;
    return {
      webhookId: webhook.id,
      url: webhook.url,
      secrets: {
        current: this.open(webhook.id, webhook.secret),
        previous: webhook.previous_secret === null ? null : this.open(webhook.id, webhook.previous_secret),
        previousExpiresAt: expires === null ? null : Number(expires),
      },
    };
  }

  async recordAttempts(owner: string, outcomes: readonly AttemptOutcome[]): Promise<readonly boolean[]> {
    if (outcomes.length === 0) return [];
    const at = nowIso();
    const applied = await transaction(this.ctx, async (trx) => {
      const results: boolean[] = [];
      const attempts: Insertable<WebhookDeliveryAttemptsTable>[] = [];
      for (const { webhookId, messageId, record } of outcomes) {
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
        const ok = Number(updated.numUpdatedRows) > 0;
        results.push(ok);
        if (!ok) continue;
        attempts.push({
          webhook_id: webhookId,
          message_id: messageId,
          attempt: attempt.attempt,
          started_at: attempt.startedAt,
          duration_ms: Math.round(attempt.durationMs),
          status_code: attempt.statusCode,
          error: attempt.error,
        });
        if (record.disableWebhook !== undefined) {
          await trx
            .updateTable('webhooks')
            .set({ enabled: 0, disabled_reason: record.disableWebhook, updated_at: at })
            .where('id', '=', webhookId)
            .execute();
        }
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
    return applied;
  }

  async outboxStats(): Promise<WebhookOutboxStats> {
    const count = async (status: DeliveryStatus) => {
      const row = await this.ctx.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('status', '=', status)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    };
    const [pending, dead] = await Promise.all([count('pending'), count('dead')]);
    return { pending, dead };
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .select(
        sql<
          number | null
        >`min(case when lease_until is null or lease_until < next_attempt_at then next_attempt_at else lease_until end)`.as(
          'next',
        ),
      )
      .where('status', '=', 'pending')
      .where('webhook_id', 'in', enabledIds(this.ctx.db))
      .executeTakeFirst();
    return row?.next == null ? null : Number(row.next);
  }
}
