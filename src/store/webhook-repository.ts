/**
 * Webhook subscriptions and their delivery outbox on SQLite and PostgreSQL (see webhook-store.ts
 * for the contract, webhook-outbox.ts for the write side and webhook-claims.ts for the
 * dispatcher's claims and outcomes). Secrets are sealed per webhook
 * (`webhook:<id>`) when secrets at rest are configured.
 */
import type { Selectable } from 'kysely';
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
import { transaction, type StoreContext } from './context.js';
import type { WebhookDeliveriesTable, WebhookDeliveryAttemptsTable } from './schema.js';
import type { Page } from './store.js';
import { claimDue, nextDueAt, outboxStats, recordAttempts, type WebhookRow } from './webhook-claims.js';
import { insertWebhookEvent } from './webhook-outbox.js';
import type {
  AttemptOutcome,
  ClaimRequest,
  ClaimResult,
  NewWebhook,
  RetryOutcome,
  WebhookOutboxStats,
  WebhookPatch,
  WebhookRepository,
  WebhookTarget,
} from './webhook-store.js';

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

  claimDue(request: ClaimRequest): Promise<ClaimResult> {
    return claimDue(this.ctx, request, (webhook) => this.targetOf(webhook));
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

  recordAttempts(owner: string, outcomes: readonly AttemptOutcome[]): Promise<readonly boolean[]> {
    return recordAttempts(this.ctx, owner, outcomes);
  }

  outboxStats(): Promise<WebhookOutboxStats> {
    return outboxStats(this.ctx);
  }

  nextDueAt(): Promise<number | null> {
    return nextDueAt(this.ctx);
  }
}
