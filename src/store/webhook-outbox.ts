/**
 * The webhook outbox's write side. Every event a webhook may subscribe to is queued by the
 * transaction that makes the change it reports (`insertWebhookEvent`): one INSERT … SELECT writes
 * one `pending` delivery row per enabled webhook whose filters select the event. A tenant event's
 * own insert first tells whether any webhook could want it (`insertEventsWithWebhooks`), so the
 * outbox statement is issued only then. The rows carry the resource as it was at that moment, with secret values erased, so
 * a later change (or a purge) does not alter what the event says. They also carry the traceparent
 * of the active span (the request or step making the change), which each attempt's span continues.
 * Delivery is the dispatcher's (src/callbacks/webhook-dispatcher.ts).
 */
import { sql } from 'kysely';
import { newId } from '../domain/ids.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import type { Tenant } from '../domain/tenant.js';
import {
  filtersSelecting,
  messageIdOf,
  webhookEventOf,
  type RolloutWebhookEventType,
  type WebhookEvent,
} from '../domain/webhook.js';
import type { ComputeExecution } from '../domain/compute-execution.js';
import type { StoreContext, Transaction } from './context.js';
import { insertEvents } from './event-repository.js';
import { preparedQuery } from './prepared-query.js';
import { findTenantRow, toTenant } from './tenant-rows.js';

interface OutboxArgs {
  message_id: string;
  event_type: string;
  payload: string;
  now: number;
  created_at: string;
  traceparent: string | null;
  /** LIKE patterns on `event_filter` for the exact type, its group wildcard and `*`. */
  exact: string;
  group: string;
  all: string;
}

/** Casts keep PostgreSQL from typing the bare parameters of the select list as text. */
const insertForSubscribers = preparedQuery((db, a: OutboxArgs) =>
  db
    .insertInto('webhook_deliveries')
    .columns([
      'webhook_id',
      'message_id',
      'event_type',
      'payload',
      'status',
      'attempts',
      'next_attempt_at',
      'window_start',
      'created_at',
      'traceparent',
    ])
    .expression(
      db
        .selectFrom('webhooks')
        .select([
          'id',
          sql<string>`cast(${a.message_id} as text)`.as('message_id'),
          sql<string>`cast(${a.event_type} as text)`.as('event_type'),
          sql<string>`cast(${a.payload} as text)`.as('payload'),
          sql.lit('pending').as('status'),
          sql.lit(0).as('attempts'),
          sql<number>`cast(${a.now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${a.now} as bigint)`.as('window_start'),
          sql<string>`cast(${a.created_at} as text)`.as('created_at'),
          sql<string | null>`cast(${a.traceparent} as text)`.as('traceparent'),
        ])
        .where('enabled', '=', 1)
        .where((eb) =>
          eb.or([
            eb('event_filter', 'like', a.exact),
            eb('event_filter', 'like', a.group),
            eb('event_filter', 'like', a.all),
          ]),
        ),
    ),
);

/**
 * Queues `event` for every enabled webhook that subscribes to it, inside the caller's transaction
 * (which must be the one writing the change the event reports). Returns the message id.
 */
export async function insertWebhookEvent(tx: Transaction, event: WebhookEvent): Promise<string> {
  const messageId = messageIdOf(newId());
  const patterns = subscriberPatterns(event.type);
  const exact = patterns[0]!;
  const queued = await insertForSubscribers.affected(
    { db: tx.db, dialect: tx.dialect },
    {
      message_id: messageId,
      event_type: event.type,
      payload: JSON.stringify(event),
      now: Date.now(),
      created_at: new Date().toISOString(),
      traceparent: tx.traceparent ?? null,
      exact,
      group: patterns[1] ?? exact,
      all: patterns[2] ?? exact,
    },
  );
  if (queued > 0) tx.changed('webhooks');
  return messageId;
}

/**
 * The tenant as a webhook carries it: secret values erased with the same mask the API shows
 * (when secrets at rest know which values are secret; the renderer masks again on the way out).
 */
export function tenantSnapshot(ctx: StoreContext, tenant: Tenant): Tenant {
  const spec = JSON.parse(ctx.specs.encode(tenant.id, tenant.spec, true)) as Tenant['spec'];
  return { ...tenant, spec };
}

/** LIKE patterns on `webhooks.event_filter` that select `type`: its own, its group's, `*`. */
function subscriberPatterns(type: string): string[] {
  return filtersSelecting(type).map((f) => `%|${f}|%`);
}

/**
 * Appends `drafts` (the events of a change to `tenant`, written in the caller's transaction at
 * `at`) and queues the webhook events they stand for, with `tenant` as it is after the change
 * (`extra` joins the data: an `execution.failed` names its execution). The event insert itself
 * counts the webhooks that could want any of them (`insertEvents`' `subscribers`); only when there
 * are some does the outbox statement follow — so with no matching webhook, the events cost their
 * one insert; returns whether there were some. Correct with several replicas: the webhooks table is read by the transaction that
 * writes the events, never from a copy. `tenant` may be a function, called only when it is needed.
 */
export async function insertEventsWithWebhooks(
  tx: Transaction,
  ctx: StoreContext,
  tenant: Tenant | (() => Promise<Tenant | undefined>),
  tenantId: string,
  drafts: readonly TenantEventDraft[],
  at: string,
  extra: Readonly<Record<string, unknown>> = {},
): Promise<boolean> {
  const typed = webhookTypesOf(drafts);
  const patterns = [...new Set(typed.flatMap(subscriberPatterns))];
  const subscribed = await insertEvents(tx, tenantId, drafts, at, patterns);
  if (!subscribed) return false;
  const current = typeof tenant === 'function' ? await tenant() : tenant;
  if (!current) return true;
  const snapshot = tenantSnapshot(ctx, current);
  for (const type of typed) {
    await insertWebhookEvent(tx, { type, timestamp: at, data: { tenant: snapshot, ...extra } });
  }
  return true;
}

function webhookTypesOf(drafts: readonly TenantEventDraft[]) {
  return drafts.flatMap((draft) => {
    const type = webhookEventOf(draft);
    return type === undefined ? [] : [type];
  });
}

/** The LIKE patterns on `webhooks.event_filter` of every webhook that may want one of `drafts`. */
export function eventSubscriberPatterns(drafts: readonly TenantEventDraft[]): string[] {
  return [...new Set(webhookTypesOf(drafts).flatMap(subscriberPatterns))];
}

/**
 * Appends `ExecutionStatusChanged` events of `execution` (its latest status last) and, for an
 * `execution.failed` a webhook wants, queues that with the tenant as it is now and the execution.
 */
export async function insertExecutionEvents(
  tx: Transaction,
  ctx: StoreContext,
  execution: ComputeExecution,
  events: readonly TenantEventDraft[],
  at: string,
): Promise<void> {
  const { leaseOwner: _owner, leaseExpiresAt: _until, ...resource } = execution;
  const tenant = async (): Promise<Tenant | undefined> => {
    const row = await findTenantRow(ctx, tx.db, execution.tenantId);
    return row && toTenant(row, ctx.specs);
  };
  await insertEventsWithWebhooks(tx, ctx, tenant, execution.tenantId, events, at, { execution: resource });
}

/**
 * Queues a rollout event (`rollout.started`, `rollout.halted`, …) with the rollout resource as the
 * API shows it. Call it inside the transaction that records the rollout's change of phase, so the
 * event is sent if and only if the change committed. The resource must hold no secret values.
 */
export function insertRolloutWebhookEvent(
  tx: Transaction,
  type: RolloutWebhookEventType,
  rollout: Readonly<Record<string, unknown>>,
  at: string = new Date().toISOString(),
): Promise<string> {
  return insertWebhookEvent(tx, { type, timestamp: at, data: { rollout } });
}
