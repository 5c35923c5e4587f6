/**
 * Tenant events: one append-only table that is both each tenant's history and the global event
 * stream (`seq` is the SSE event id). Rows are only ever inserted by the transaction that made the
 * change they describe (`insertEvents`), or through `Store.appendEvent`.
 */
import { sql, type Insertable, type RawBuilder, type Selectable } from 'kysely';
import type { TenantEvent, TenantEventDraft, TenantEventType } from '../domain/tenant-event.js';
import type { Phase } from '../domain/tenant.js';
import { fromJson, toJson } from './codec.js';
import type { StoreContext, Transaction } from './context.js';
import { preparedQueryFamily } from './prepared-query.js';
import { rowArgNames } from './row-arg-names.js';
import type { TenantEventsTable } from './schema.js';
import type { TenantEventRepository } from './store.js';

export function toTenantEvent(row: Selectable<TenantEventsTable>): TenantEvent {
  const data = fromJson<Record<string, unknown> | null>(row.data, null);
  return {
    seq: Number(row.seq),
    tenantId: row.tenant_id,
    type: row.type as TenantEventType,
    actor: row.actor,
    reason: row.reason,
    message: row.message,
    fromPhase: row.from_phase as Phase | null,
    toPhase: row.to_phase as Phase | null,
    generation: Number(row.generation),
    runId: row.run_id,
    executionId: row.execution_id,
    ...(data !== null && { data }),
    at: row.at,
  };
}

const EVENT_COLUMNS = [
  'tenant_id',
  'type',
  'actor',
  'reason',
  'message',
  'from_phase',
  'to_phase',
  'generation',
  'run_id',
  'execution_id',
  'data',
  'at',
] as const satisfies readonly (keyof Insertable<TenantEventsTable>)[];

/**
 * What an event insert also answers, in its own RETURNING: how many enabled webhooks have a filter
 * matching one of `subscribers` (LIKE patterns on `event_filter`, argument `subscriber_<i>`). Each
 * inserted row carries the same count. The webhooks are read in the insert's own snapshot, which is
 * the one a separate outbox statement just before it would have read.
 */
export function subscriberCount(a: Readonly<Record<string, unknown>>, subscribers: number) {
  const filters = Array.from(
    { length: subscribers },
    (_, i) => sql`event_filter like ${a[`subscriber_${i}`]}`,
  );
  return sql<number>`(select count(*) from webhooks where enabled = 1 and (${sql.join(filters, sql` or `)}))`;
}

/** The shape of an event insert: how many rows, and how many subscriber patterns it checks. */
interface EventInsertShape {
  readonly rows: number;
  readonly subscribers: number;
}

const shapeKey = (shape: EventInsertShape): string => `${shape.rows}:${shape.subscribers}`;

/** The multi-row event insert, compiled once per shape; argument `<column>_<row>`. */
const insertEventRows = preparedQueryFamily(
  shapeKey,
  (db, a: Readonly<Record<string, unknown>>, { rows, subscribers }: EventInsertShape) => {
    const insert = db
      .insertInto('tenant_events')
      .values(
        Array.from(
          { length: rows },
          (_, i) =>
            Object.fromEntries(
              EVENT_COLUMNS.map((c) => [c, a[`${c}_${i}`]]),
            ) as Insertable<TenantEventsTable>,
        ),
      );
    if (subscribers === 0) return insert;
    return insert.returning(subscriberCount(a, subscribers).as('subscribers'));
  },
);

/**
 * `insert into tenant_events … select * from (values …) where <condition>`: the rows of
 * `eventArgs`, argument `<column>_<row>`. The condition is uncorrelated (it is evaluated once,
 * before the first row reaches the insert and takes its seq). The values of a VALUES list in a
 * select are not typed by the target columns, hence the cast of the one non-text column.
 */
export function eventValuesInsert(
  a: Readonly<Record<string, unknown>>,
  rows: number,
  condition: RawBuilder<boolean>,
): RawBuilder<unknown> {
  const columns = sql.join(EVENT_COLUMNS.map((c) => sql.id(c)));
  const value = (c: (typeof EVENT_COLUMNS)[number], i: number) =>
    c === 'generation' ? sql`cast(${a[`${c}_${i}`]} as bigint)` : sql`${a[`${c}_${i}`]}`;
  const tuples = Array.from(
    { length: rows },
    (_, i) => sql`(${sql.join(EVENT_COLUMNS.map((c) => value(c, i)))})`,
  );
  return sql`insert into tenant_events (${columns}) select * from (values ${sql.join(tuples)}) as v (${columns}) where ${condition}`;
}

/**
 * The same with the dialect's append gate (PostgreSQL: the stream's append lock) in the statement:
 * `insert … select … from (values …) where <gate>`.
 */
const insertGatedEventRows = preparedQueryFamily(
  shapeKey,
  (db, a: Readonly<Record<string, unknown>>, { rows, subscribers }: EventInsertShape, dialect) => {
    const gate = dialect.eventAppendGate ?? sql<boolean>`true`;
    const returning =
      subscribers === 0 ? sql`` : sql` returning ${subscriberCount(a, subscribers)} as subscribers`;
    const insert = sql`${eventValuesInsert(a, rows, gate)}${returning}`;
    return { compile: () => insert.compile(db) };
  },
);

/**
 * Inserts `drafts` in order (so their seqs ascend in the same order) inside the caller's
 * transaction, and marks it as having appended events (the change signal). Call it as the
 * transaction's last write but for the webhook outbox rows it may call for: from here to commit
 * it holds the stream's append lock (`SqlDialect.eventAppendGate`), shared by appenders.
 *
 * With `subscribers` (LIKE patterns on `webhooks.event_filter`), the insert also counts the enabled
 * webhooks matching any of them, in the same statement, and says whether there were any: the
 * webhook outbox (webhook-outbox.ts) writes its rows only then, so an event no webhook can want
 * costs no outbox statement.
 */
/** The columns of an event row that come from its draft (all but `tenant_id` and `at`). */
export function eventRow(e: TenantEventDraft) {
  return {
    type: e.type,
    actor: e.actor,
    reason: e.reason,
    message: e.message,
    from_phase: e.fromPhase ?? null,
    to_phase: e.toPhase ?? null,
    generation: e.generation,
    run_id: e.runId ?? null,
    execution_id: e.executionId ?? null,
    data: toJson(e.data),
  };
}

/** The arguments of an event insert: `<column>_<row>` for `drafts`, `subscriber_<i>` for `subscribers`. */
export function eventArgs(
  tenantId: string | null,
  drafts: readonly TenantEventDraft[],
  at: string,
  subscribers: readonly string[],
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (let i = 0; i < drafts.length; i++) {
    const row = eventRow(drafts[i]!);
    const names = eventArgNames(i);
    args[names.tenant_id] = tenantId;
    for (const column of DRAFT_COLUMNS) args[names[column]] = row[column];
    args[names.at] = at;
  }
  for (let i = 0; i < subscribers.length; i++) args[`subscriber_${i}`] = subscribers[i];
  return args;
}

/** The columns `eventRow` fills: all but `tenant_id` and `at`. */
const DRAFT_COLUMNS = EVENT_COLUMNS.filter(
  (c): c is Exclude<(typeof EVENT_COLUMNS)[number], 'tenant_id' | 'at'> => c !== 'tenant_id' && c !== 'at',
);

/** `<column>_<row>` for each row index. */
const eventArgNames = rowArgNames(EVENT_COLUMNS, (c, i) => `${c}_${i}`);

export async function insertEvents(
  tx: Transaction,
  tenantId: string | null,
  drafts: readonly TenantEventDraft[],
  at: string,
  subscribers: readonly string[] = [],
): Promise<boolean> {
  if (drafts.length === 0) return false;
  const args = eventArgs(tenantId, drafts, at, subscribers);
  const insert = tx.dialect.eventAppendGate ? insertGatedEventRows : insertEventRows;
  const shape = { rows: drafts.length, subscribers: subscribers.length };
  if (subscribers.length === 0) {
    await insert.affected(tx, shape, args);
    tx.changed('events');
    return false;
  }
  const first = (await insert.first(tx, shape, args)) as { subscribers?: unknown } | undefined;
  tx.changed('events');
  return Number(first?.subscribers ?? 0) > 0;
}

export class KyselyTenantEventRepository implements TenantEventRepository {
  constructor(private readonly ctx: StoreContext) {}

  async listByTenant(
    tenantId: string,
    options: { afterSeq?: number; limit: number },
  ): Promise<readonly TenantEvent[]> {
    const rows = await this.ctx.db
      .selectFrom('tenant_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', options.afterSeq ?? 0)
      .orderBy('seq')
      .limit(options.limit)
      .execute();
    return rows.map(toTenantEvent);
  }

  /** Only settled events: an event still being committed with a lower seq holds back the rest. */
  async listSince(afterSeq: number, limit: number): Promise<readonly TenantEvent[]> {
    const rows = await this.ctx.dialect.readSettledEvents(this.ctx.db, (db) =>
      db
        .selectFrom('tenant_events')
        .selectAll()
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute(),
    );
    return rows.map(toTenantEvent);
  }

  /** Settled, like `listSince`: no event at or below it commits later (a stream may start here). */
  async latestSeq(): Promise<number> {
    const row = await this.ctx.dialect.readSettledEvents(this.ctx.db, (db) =>
      db
        .selectFrom('tenant_events')
        .select((eb) => eb.fn.max('seq').as('seq'))
        .executeTakeFirst(),
    );
    return row?.seq == null ? 0 : Number(row.seq);
  }
}
