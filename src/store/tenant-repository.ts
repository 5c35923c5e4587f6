/**
 * Tenants: create, read, list, and `change` — the one write path after creation, which persists
 * what `applyTenantChange` computed (tenant row, label rows, events) in one transaction guarded by
 * the row's `version`. PostgreSQL additionally locks the row while the change is computed, so
 * concurrent writers without an `expectedVersion` queue up instead of failing. Specs pass the
 * store's `SpecCodec` (sealed-specs.ts): secret values are sealed in the row and erased once the
 * tenant is archived. Every new generation's spec is kept as a revision in the same transaction
 * (tenant-revision-repository.ts).
 */
import type { TraceContext } from '../domain/tracing.js';
import { flushHeld, type HeldJournal } from '../domain/held-journal.js';
import { sql, type SqlBool } from 'kysely';
import {
  ConflictError,
  InvalidTransitionError,
  NotFoundError,
  PreconditionFailedError,
} from '../domain/errors.js';
import type { AuditRecord } from '../domain/audit-record.js';
import { newId } from '../domain/ids.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import { applyTenantChange, type AppliedChange, type TenantChange } from '../domain/tenant-change.js';
import { tenantSubject } from '../domain/tenant-run.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';
import { initialStatus, PHASES, type Phase, type Tenant } from '../domain/tenant.js';
import { insertAuditRecord } from './audit-repository.js';
import { nowIso } from './codec.js';
import { transaction, type Executor, type StoreContext, type Transaction } from './context.js';
import { assertPlanRevision } from './plan-repository.js';
import { eraseRevisionSecrets, insertRevision } from './tenant-revision-repository.js';
import type {
  HeldVersion,
  NewTenant,
  Page,
  ReadyTenantRef,
  SummaryScope,
  TenantListQuery,
  TenantRepository,
  TenantDocumentRead,
  TenantSummary,
  TenantViewRead,
  TenantWithRuns,
} from './store.js';
import { UNSETTLED_TENANTS } from './migrations/0002-unsettled-tenants-index.js';
import { LIVE_UNPAUSED_TENANTS } from './migrations/0003-ready-tenants-index.js';
import { listTenants, listTenantsForView } from './tenant-list.js';
import { eventSubscriberPatterns, insertEventsWithWebhooks } from './webhook-outbox.js';
import { foldedCreation, foldedStatusChange, SubscriberHint } from './folded-writes.js';
import { preparedQuery } from './prepared-query.js';
import { findTenantWithRuns } from './tenant-with-runs.js';
import {
  findTenantRow,
  findTenantViewRow,
  viewDocument,
  LIVE,
  tenantRow,
  toTenant,
  toTenantSummary,
  writeLabels,
  type TenantRow,
} from './tenant-rows.js';

/** The first event of every tenant: it enters the stream in phase `requested`. */
function createdEvent(actor: string): TenantEventDraft {
  return {
    type: 'Created',
    actor,
    reason: 'Created',
    message: 'tenant created',
    fromPhase: null,
    toPhase: 'requested',
    generation: 1,
    runId: null,
    executionId: null,
  };
}

/**
 * The columns a change may write: all but id, name and created_at, which never change (and leaving
 * the name out keeps PostgreSQL's row lock non-key).
 */
type ChangedColumns = Omit<TenantRow, 'id' | 'name' | 'created_at'>;

/** The changeable columns, each taken as a prepared-query argument of the same name. */
const changedColumns = (a: ChangedColumns): ChangedColumns => ({
  provider: a.provider,
  phase: a.phase,
  generation: a.generation,
  observed_generation: a.observed_generation,
  paused: a.paused,
  spec: a.spec,
  status: a.status,
  version: a.version,
  updated_at: a.updated_at,
  archived: a.archived,
  plan_name: a.plan_name,
});

/** Tenant writes on every create and every phase change, compiled once. */
const tenantQueries = {
  insert: preparedQuery((db, a: TenantRow) =>
    db
      .insertInto('tenants')
      .values({ id: a.id, name: a.name, created_at: a.created_at, ...changedColumns(a) }),
  ),
  /**
   * A change's status columns only (the spec, its generation and what derives from it stay), only
   * if the row's version is still `expectedVersion`.
   */
  updateStatus: preparedQuery(
    (
      db,
      a: Pick<ChangedColumns, 'phase' | 'observed_generation' | 'status' | 'version' | 'updated_at'> & {
        id: string;
        expectedVersion: number;
      },
    ) =>
      db
        .updateTable('tenants')
        .set({
          phase: a.phase,
          observed_generation: a.observed_generation,
          status: a.status,
          version: a.version,
          updated_at: a.updated_at,
        })
        .where('id', '=', a.id)
        .where('version', '=', a.expectedVersion),
  ),
  /** Writes the row only if its version is still `expectedVersion`. */
  update: preparedQuery((db, a: ChangedColumns & { id: string; expectedVersion: number }) =>
    db
      .updateTable('tenants')
      .set(changedColumns(a))
      .where('id', '=', a.id)
      .where('version', '=', a.expectedVersion),
  ),
};

export class KyselyTenantRepository implements TenantRepository {
  /** The folded writes (folded-writes.ts): whether a webhook lately wanted these events. */
  private readonly subscribers = new SubscriberHint();

  constructor(private readonly ctx: StoreContext) {}

  async create(input: NewTenant): Promise<Tenant> {
    const now = nowIso();
    const tenant: Tenant = {
      id: newId(),
      name: input.name,
      spec: input.spec,
      generation: 1,
      status: {
        ...initialStatus(),
        ...(input.effectiveConfigHash !== undefined && { effectiveConfigHash: input.effectiveConfigHash }),
      },
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const events = [createdEvent(input.actor)];
    const patterns = eventSubscriberPatterns(events);
    try {
      // No plan to check: one statement, unless a webhook wants the event.
      if (this.foldable(patterns) && !tenant.spec.plan) {
        const row = tenantRow(tenant, this.ctx.specs.encode(tenant.id, tenant.spec, false));
        const folded = await foldedCreation(this.ctx, row, tenant.spec.labels, input.actor, events, patterns);
        if (folded === 'written') return tenant;
        this.subscribers.saw(patterns, true);
      }
      await transaction(
        this.ctx,
        async (trx, tx) => {
          if (tenant.spec.plan) await assertPlanRevision(this.ctx, trx, tenant.spec.plan);
          const row = tenantRow(tenant, this.ctx.specs.encode(tenant.id, tenant.spec, false));
          await tenantQueries.insert.affected(tx, row);
          await writeLabels(trx, tenant.id, tenant.spec.labels, false);
          await insertRevision(tx, tenant.id, 1, row.spec, input.actor, now);
          const subscribed = await insertEventsWithWebhooks(tx, this.ctx, tenant, tenant.id, events, now);
          this.subscribers.saw(patterns, subscribed);
        },
        input.trace,
      );
    } catch (error) {
      if (this.ctx.dialect.isUniqueViolation(error)) {
        throw new ConflictError(`a tenant named '${input.name}' already exists`, { name: input.name });
      }
      throw error;
    }
    return tenant;
  }

  async get(idOrName: string): Promise<Tenant | undefined> {
    const row = await findTenantRow(this.ctx, this.ctx.db, idOrName);
    return row && toTenant(row, this.ctx.specs);
  }

  getWithRuns(id: string, runLimit: number): Promise<TenantWithRuns | undefined> {
    return findTenantWithRuns(this.ctx, id, runLimit);
  }

  async getForView(idOrName: string, held?: HeldVersion): Promise<TenantDocumentRead | undefined> {
    const row = await findTenantViewRow(this.ctx, idOrName, held);
    if (!row) return undefined;
    if (row.spec === null || row.status === null) {
      return { unchanged: true, held: { id: row.id, version: Number(row.version) } };
    }
    return {
      unchanged: false,
      document: viewDocument({ ...row, spec: row.spec, status: row.status }, this.ctx.specs),
    };
  }

  list(query: TenantListQuery): Promise<Page<Tenant>> {
    return listTenants({ db: this.ctx.db, dialect: this.ctx.dialect }, this.ctx.specs, query);
  }

  listForView(
    query: TenantListQuery,
    heldVersion: (id: string) => number | undefined = () => undefined,
  ): Promise<Page<TenantViewRead>> {
    return listTenantsForView(
      { db: this.ctx.db, dialect: this.ctx.dialect },
      this.ctx.specs,
      query,
      heldVersion,
    );
  }

  async change(
    idOrName: string,
    change: TenantChange,
    options: { expectedVersion?: number; trace?: TraceContext } = {},
  ): Promise<AppliedChange> {
    return transaction(
      this.ctx,
      (_trx, tx) => changeTenantIn(this.ctx, tx, idOrName, () => change, options),
      options.trace,
    );
  }

  async changeFrom(
    current: Tenant,
    change: TenantChange,
    trace?: TraceContext,
    journal?: HeldJournal,
  ): Promise<AppliedChange> {
    const applied = applyTenantChange(current, change, nowIso());
    if (!applied.changed) return applied;
    const archives = applied.tenant.status.phase === 'archived';
    if (change.spec !== undefined || applied.tenant.generation !== current.generation || archives) {
      await flushHeld(journal);
      return this.change(current.id, change, { expectedVersion: current.version, ...(trace && { trace }) });
    }
    const after = applied.tenant;
    const args = {
      id: current.id,
      expectedVersion: current.version,
      phase: after.status.phase,
      observed_generation: after.status.observedGeneration,
      status: JSON.stringify(after.status),
      version: after.version,
      updated_at: after.updatedAt,
    };
    // No events (a status field, as the execution a run shows): the one update is the whole write.
    if (applied.events.length === 0) {
      await flushHeld(journal);
      const target = { db: this.ctx.db, dialect: this.ctx.dialect };
      const updated = await tenantQueries.updateStatus.affected(target, args);
      if (updated !== 1) await throwStale(target.db, current);
      return applied;
    }
    const patterns = eventSubscriberPatterns(applied.events);
    // One statement, unless a webhook wants the events (folded-writes.ts).
    if (this.foldable(patterns)) {
      const folded = await foldedStatusChange(
        this.ctx,
        args,
        applied.events,
        after.updatedAt,
        patterns,
        journal,
      );
      if (folded === 'written') return applied;
      if (folded === 'stale') await throwStale(this.ctx.db, current);
      this.subscribers.saw(patterns, true);
    }
    await flushHeld(journal);
    return transaction(
      this.ctx,
      async (_trx, tx) => {
        const updated = await tenantQueries.updateStatus.affected(tx, args);
        if (updated !== 1) await throwStale(tx.db, current);
        const at = after.updatedAt;
        const subscribed = await insertEventsWithWebhooks(
          tx,
          this.ctx,
          after,
          current.id,
          applied.events,
          at,
        );
        this.subscribers.saw(patterns, subscribed);
        return applied;
      },
      trace,
    );
  }

  /** Whether a write of events with these subscriber patterns goes to a folded statement first. */
  private foldable(patterns: readonly string[]): boolean {
    return !this.subscribers.likely(patterns);
  }

  async purge(id: string, audit: { readonly actor: string }): Promise<AuditRecord> {
    return transaction(this.ctx, async (trx) => {
      const row = await findTenantRow(this.ctx, trx, id, true);
      if (!row) throw new NotFoundError('tenant', id);
      if (row.archived !== 1) {
        throw new InvalidTransitionError(`tenant '${row.name}' must be archived before it can be purged`, {
          phase: row.phase,
        });
      }
      const record = purgeRecord(toTenant(row, this.ctx.specs), audit.actor);
      await insertAuditRecord(trx, record);
      // Runs name their tenant in a tag, not by a foreign key; their journal cascades from them.
      await trx.deleteFrom('workflow_runs').where('subject', '=', tenantSubject(row.id)).execute();
      await trx.deleteFrom('tenants').where('id', '=', row.id).execute();
      return record;
    });
  }

  async listArchivedByName(name: string, limit: number): Promise<readonly Tenant[]> {
    const rows = await this.ctx.db
      .selectFrom('tenants')
      .selectAll()
      .where('name', '=', name)
      .where('archived', '=', 1)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => toTenant(row, this.ctx.specs));
  }

  async listSummaries(
    afterId: string | null,
    limit: number,
    scope: SummaryScope = 'all',
  ): Promise<readonly TenantSummary[]> {
    let query = this.ctx.db
      .selectFrom('tenants')
      .select(['id', 'provider', 'phase', 'generation', 'observed_generation', 'paused']);
    if (scope === 'unsettled') query = query.where(sql<SqlBool>`${UNSETTLED_TENANTS}`);
    else query = query.where('archived', '=', LIVE);
    if (afterId !== null) query = query.where('id', '>', afterId);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map(toTenantSummary);
  }

  async listReady(afterId: string | null, limit: number): Promise<readonly ReadyTenantRef[]> {
    let query = this.ctx.db
      .selectFrom('tenants')
      .select(['id', 'provider'])
      .where(sql<SqlBool>`${LIVE_UNPAUSED_TENANTS}`)
      .where('phase', '=', 'ready');
    if (afterId !== null) query = query.where('id', '>', afterId);
    return query.orderBy('id').limit(limit).execute();
  }

  async countByPhase(
    filter: { readonly provider?: string | undefined } = {},
  ): Promise<Record<Phase, number>> {
    let query = this.ctx.db
      .selectFrom('tenants')
      .select((eb) => ['phase', eb.fn.countAll().as('n')])
      .groupBy('phase');
    if (filter.provider !== undefined) query = query.where('provider', '=', filter.provider);
    const counts = Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;
    for (const row of await query.execute()) counts[row.phase as Phase] = Number(row.n);
    return counts;
  }
}

/** What the audit trail keeps of a purged tenant: its identity and life, never its spec (secrets). */
function purgeRecord(tenant: Tenant, actor: string): AuditRecord {
  return {
    id: newId(),
    at: nowIso(),
    actor,
    action: 'tenant.purge',
    targetId: tenant.id,
    targetName: tenant.name,
    details: {
      provider: tenant.spec.provider,
      labels: tenant.spec.labels,
      generation: tenant.generation,
      createdAt: tenant.createdAt,
      archivedAt: tenant.updatedAt,
    },
  };
}

/**
 * `TenantRepository.change` inside the caller's transaction (a rollout writes its member row in the
 * same one): locks the row, lets `decide` compute the change from the current tenant, persists it.
 * `decide` may return null for "nothing to change".
 */
export async function changeTenantIn(
  ctx: StoreContext,
  tx: Transaction,
  idOrName: string,
  decide: (current: Tenant) => TenantChange | null,
  options: { expectedVersion?: number } = {},
): Promise<AppliedChange> {
  const trx = tx.db;
  const row = await findTenantRow(ctx, trx, idOrName, true);
  if (!row) throw new NotFoundError('tenant', idOrName);
  const tenant = toTenant(row, ctx.specs);
  const { expectedVersion } = options;
  if (expectedVersion !== undefined && expectedVersion !== tenant.version) {
    throw new PreconditionFailedError(expectedVersion, tenant.version);
  }
  const change = decide(tenant);
  if (change === null) return { tenant, events: [], changed: false };
  const applied = applyTenantChange(tenant, change, nowIso());
  if (!applied.changed) return applied;
  const plan = applied.tenant.spec.plan;
  if (plan && !deepEqualJson(plan, tenant.spec.plan)) await assertPlanRevision(ctx, trx, plan);
  const spec = storedSpec(ctx, row.spec, tenant, applied.tenant);
  await persistChange(tx, ctx, tenant, applied, spec);
  const { generation, updatedAt } = applied.tenant;
  if (generation !== tenant.generation) {
    await insertRevision(tx, tenant.id, generation, spec, change.actor, updatedAt);
  }
  if (applied.tenant.status.phase === 'archived' && tenant.status.phase !== 'archived') {
    await eraseRevisionSecrets(ctx, trx, tenant.id);
  }
  // An archived tenant's secrets were erased in the row: the caller sees what was stored.
  if (applied.tenant.status.phase !== 'archived') return applied;
  return { ...applied, tenant: { ...applied.tenant, spec: ctx.specs.decode(tenant.id, spec) } };
}

/**
 * The `spec` column for `after`: the stored text when the spec is unchanged and already stored as
 * it should be (no needless re-encryption on every status change), else `after.spec` encoded —
 * with its secrets erased once the tenant is archived.
 */
function storedSpec(ctx: StoreContext, storedText: string, before: Tenant, after: Tenant): string {
  const archived = after.status.phase === 'archived';
  if (after.spec === before.spec && !ctx.specs.isStale(after.id, storedText, archived)) return storedText;
  return ctx.specs.encode(after.id, after.spec, archived);
}

/**
 * The PreconditionFailedError of a write that found `before`'s row at another version (or gone),
 * with the version it is at now.
 */
async function throwStale(db: Executor, before: Tenant): Promise<never> {
  const current = await db
    .selectFrom('tenants')
    .select('version')
    .where('id', '=', before.id)
    .executeTakeFirst();
  throw new PreconditionFailedError(before.version, Number(current?.version ?? before.version + 1));
}

/**
 * Writes `applied` over `before`: the row only if its version is still `before.version` (else a
 * concurrent writer won and PreconditionFailedError is thrown), labels when they changed, events.
 */
async function persistChange(
  tx: Transaction,
  ctx: StoreContext,
  before: Tenant,
  applied: AppliedChange,
  spec: string,
): Promise<void> {
  const { name: _name, created_at: _created, ...values } = tenantRow(applied.tenant, spec);
  const args = { ...values, id: before.id, expectedVersion: before.version };
  const updated = await tenantQueries.update.affected(tx, args);
  if (updated !== 1) await throwStale(tx.db, before);
  if (!deepEqualJson(applied.tenant.spec.labels, before.spec.labels)) {
    await writeLabels(tx.db, before.id, applied.tenant.spec.labels, true);
  }
  await insertEventsWithWebhooks(
    tx,
    ctx,
    applied.tenant,
    before.id,
    applied.events,
    applied.tenant.updatedAt,
  );
}
