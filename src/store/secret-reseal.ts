/**
 * Re-sealing the secrets at rest under the current key (`lessor secrets rotate-key`, and sealing
 * what was stored before sealing existed). One pass over the tenants in id order, in batches: a row
 * whose spec is stale (a secret value unsealed or under an older key; an archived tenant's secret
 * not erased) is re-encoded and written back in one transaction per batch, each row compare-and-set
 * on the exact text read, so a concurrent writer's newer row is never overwritten. Safe beside
 * running servers and idempotent: a second pass finds nothing to do. A final count says how many
 * rows are still stale — rows a server whose current key is older wrote meanwhile. Tenant revisions
 * are re-sealed with their tenant's batch (erased when the tenant is archived), plan revisions in a
 * pass of their own; both count in `revisions` and in `remaining`.
 */
import { isSealed, sealedKeyId } from '../domain/secret-key-ring.js';
import { transaction, type StoreContext } from './context.js';
import { decodePlanContent, encodePlanContent, planContentStale } from './plan-repository.js';
import { serverSecretContext } from './server-secret-repository.js';
import type { ResealReport } from './store.js';

const DEFAULT_BATCH = 200;

interface Rewrite {
  readonly id: string;
  readonly from: string;
  readonly to: string;
}

export async function resealSecrets(
  ctx: StoreContext,
  options: { batchSize?: number } = {},
): Promise<ResealReport> {
  if (!ctx.secrets) throw new Error('no secrets key: this store seals nothing');
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
  const serverSecrets = await resealServerSecrets(ctx);
  const webhookSecrets = await resealWebhookSecrets(ctx);
  const rolloutSecrets = await resealRollouts(ctx, batchSize);
  let tenants = 0;
  let resealed = 0;
  let revisions = 0;
  for (let after: string | null = null; ;) {
    const rows = await tenantPage(ctx, after, batchSize);
    if (rows.length === 0) break;
    tenants += rows.length;
    after = rows[rows.length - 1]!.id;
    resealed += await rewrite(
      ctx,
      rows.flatMap((row) => rewriteOf(ctx, row)),
    );
    revisions += await resealTenantRevisions(ctx, rows);
  }
  revisions += await resealPlanRevisions(ctx, batchSize);
  return {
    tenants,
    resealed,
    revisions,
    serverSecrets,
    webhookSecrets,
    rolloutSecrets,
    remaining: await countStale(ctx, batchSize),
  };
}

/** Tenant rows still stale (a verification pass; nothing is written). */
export async function countStale(ctx: StoreContext, batchSize = DEFAULT_BATCH): Promise<number> {
  let stale = 0;
  for (let after: string | null = null; ;) {
    const rows = await tenantPage(ctx, after, batchSize);
    if (rows.length === 0) return stale;
    after = rows[rows.length - 1]!.id;
    stale += rows.filter((row) => ctx.specs.isStale(row.id, row.spec, isArchived(row))).length;
    stale += (await revisionsOf(ctx, rows)).filter((r) =>
      ctx.specs.isStale(r.tenant_id, r.spec, r.archived),
    ).length;
  }
  for (let after: PlanRevisionKey | null = null; ;) {
    const rows = await planRevisionPage(ctx, after, batchSize);
    if (rows.length === 0) return stale;
    after = rows[rows.length - 1]!;
    stale += rows.filter((row) => planContentStale(ctx, row.plan_name, row.content)).length;
  }
}

interface RevisionRow {
  readonly tenant_id: string;
  readonly generation: number;
  readonly spec: string;
  readonly archived: boolean;
}

async function revisionsOf(ctx: StoreContext, tenants: readonly SpecRow[]): Promise<RevisionRow[]> {
  if (tenants.length === 0) return [];
  const archived = new Map(tenants.map((t) => [t.id, isArchived(t)]));
  const rows = await ctx.db
    .selectFrom('tenant_revisions')
    .select(['tenant_id', 'generation', 'spec'])
    .where('tenant_id', 'in', [...archived.keys()])
    .execute();
  return rows.map((row) => ({ ...row, archived: archived.get(row.tenant_id) === true }));
}

/** Re-seals (or, archived, erases) the stale revisions of a batch of tenants; compare-and-set. */
async function resealTenantRevisions(ctx: StoreContext, tenants: readonly SpecRow[]): Promise<number> {
  const stale = (await revisionsOf(ctx, tenants)).filter((r) =>
    ctx.specs.isStale(r.tenant_id, r.spec, r.archived),
  );
  if (stale.length === 0) return 0;
  return transaction(ctx, async (trx) => {
    let written = 0;
    for (const row of stale) {
      const to = ctx.specs.encode(row.tenant_id, ctx.specs.decode(row.tenant_id, row.spec), row.archived);
      const result = await trx
        .updateTable('tenant_revisions')
        .set({ spec: to })
        .where('tenant_id', '=', row.tenant_id)
        .where('generation', '=', row.generation)
        .where('spec', '=', row.spec)
        .executeTakeFirst();
      written += Number(result.numUpdatedRows);
    }
    return written;
  });
}

interface PlanRevisionKey {
  readonly plan_name: string;
  readonly revision: number;
}

function planRevisionPage(ctx: StoreContext, after: PlanRevisionKey | null, limit: number) {
  let query = ctx.db.selectFrom('plan_revisions').select(['plan_name', 'revision', 'content']);
  if (after !== null) {
    const { plan_name: name, revision } = after;
    query = query.where((eb) =>
      eb.or([
        eb('plan_name', '>', name),
        eb.and([eb('plan_name', '=', name), eb('revision', '>', revision)]),
      ]),
    );
  }
  return query.orderBy('plan_name').orderBy('revision').limit(limit).execute();
}

async function resealPlanRevisions(ctx: StoreContext, batchSize: number): Promise<number> {
  let written = 0;
  for (let after: PlanRevisionKey | null = null; ;) {
    const rows = await planRevisionPage(ctx, after, batchSize);
    if (rows.length === 0) return written;
    after = rows[rows.length - 1]!;
    for (const row of rows) {
      if (!planContentStale(ctx, row.plan_name, row.content)) continue;
      const content = encodePlanContent(
        ctx,
        row.plan_name,
        decodePlanContent(ctx, row.plan_name, row.content),
      );
      const result = await ctx.db
        .updateTable('plan_revisions')
        .set({ content })
        .where('plan_name', '=', row.plan_name)
        .where('revision', '=', row.revision)
        .where('content', '=', row.content)
        .executeTakeFirst();
      written += Number(result.numUpdatedRows);
    }
  }
}

type SpecRow = { id: string; spec: string; archived: number };

function tenantPage(ctx: StoreContext, after: string | null, limit: number): Promise<SpecRow[]> {
  let query = ctx.db.selectFrom('tenants').select(['id', 'spec', 'archived']);
  if (after !== null) query = query.where('id', '>', after);
  return query.orderBy('id').limit(limit).execute();
}

function isArchived(row: SpecRow): boolean {
  return Number(row.archived) === 1;
}

function rewriteOf(ctx: StoreContext, row: SpecRow): Rewrite[] {
  const archived = isArchived(row);
  if (!ctx.specs.isStale(row.id, row.spec, archived)) return [];
  const to = ctx.specs.encode(row.id, ctx.specs.decode(row.id, row.spec), archived);
  return [{ id: row.id, from: row.spec, to }];
}

/** Writes the batch in one transaction; returns how many rows still held the text that was read. */
async function rewrite(ctx: StoreContext, rewrites: readonly Rewrite[]): Promise<number> {
  if (rewrites.length === 0) return 0;
  return transaction(ctx, async (trx) => {
    let written = 0;
    for (const { id, from, to } of rewrites) {
      const result = await trx
        .updateTable('tenants')
        .set({ spec: to })
        .where('id', '=', id)
        .where('spec', '=', from)
        .executeTakeFirst();
      written += Number(result.numUpdatedRows);
    }
    return written;
  });
}

async function resealServerSecrets(ctx: StoreContext): Promise<number> {
  const ring = ctx.secrets!.ring;
  const rows = await ctx.db.selectFrom('server_secrets').select(['name', 'value']).execute();
  let resealed = 0;
  for (const { name, value } of rows) {
    const context = serverSecretContext(name);
    if (sealedKeyId(value) === ring.currentKeyId) continue;
    const plain = isSealed(value) ? ring.open(value, context) : value;
    const result = await ctx.db
      .updateTable('server_secrets')
      .set({ value: ring.seal(plain, context) })
      .where('name', '=', name)
      .where('value', '=', value)
      .executeTakeFirst();
    resealed += Number(result.numUpdatedRows);
  }
  return resealed;
}

/** Re-seals webhook signing secrets (current and rotated-out) not sealed under the current key. */
async function resealWebhookSecrets(ctx: StoreContext): Promise<number> {
  const ring = ctx.secrets!.ring;
  const rows = await ctx.db.selectFrom('webhooks').select(['id', 'secret', 'previous_secret']).execute();
  let resealed = 0;
  const fresh = (value: string, context: string): string =>
    ring.seal(isSealed(value) ? ring.open(value, context) : value, context);
  for (const row of rows) {
    const context = `webhook:${row.id}`;
    const stale = (value: string | null): value is string =>
      value !== null && sealedKeyId(value) !== ring.currentKeyId;
    if (!stale(row.secret) && !stale(row.previous_secret)) continue;
    let query = ctx.db
      .updateTable('webhooks')
      .set({
        secret: stale(row.secret) ? fresh(row.secret, context) : row.secret,
        previous_secret: stale(row.previous_secret)
          ? fresh(row.previous_secret, context)
          : row.previous_secret,
      })
      .where('id', '=', row.id)
      .where('secret', '=', row.secret);
    query =
      row.previous_secret === null
        ? query.where('previous_secret', 'is', null)
        : query.where('previous_secret', '=', row.previous_secret);
    resealed += Number((await query.executeTakeFirst()).numUpdatedRows);
  }
  return resealed;
}

/**
 * Rollouts: a rollout's `change` (sealed as a whole, bound to the rollout) and each member's
 * previous spec (sealed like its tenant's spec). Each row compare-and-set on the text read.
 */
async function resealRollouts(ctx: StoreContext, batchSize: number): Promise<number> {
  const ring = ctx.secrets!.ring;
  let resealed = 0;
  const rollouts = await ctx.db.selectFrom('rollouts').select(['id', 'change']).execute();
  for (const { id, change } of rollouts) {
    if (isSealed(change) && sealedKeyId(change) === ring.currentKeyId) continue;
    const context = `rollout:${id}`;
    const plain = isSealed(change) ? ring.open(change, context) : change;
    const result = await ctx.db
      .updateTable('rollouts')
      .set({ change: ring.seal(plain, context) })
      .where('id', '=', id)
      .where('change', '=', change)
      .executeTakeFirst();
    resealed += Number(result.numUpdatedRows);
  }
  for (let after: { rolloutId: string; ordinal: number } | null = null; ;) {
    let query = ctx.db
      .selectFrom('rollout_members')
      .select(['rollout_id', 'ordinal', 'tenant_id', 'previous_spec'])
      .where('previous_spec', 'is not', null);
    if (after !== null) {
      const { rolloutId, ordinal } = after;
      query = query.where((eb) =>
        eb.or([
          eb('rollout_id', '>', rolloutId),
          eb.and([eb('rollout_id', '=', rolloutId), eb('ordinal', '>', ordinal)]),
        ]),
      );
    }
    const rows = await query.orderBy('rollout_id').orderBy('ordinal').limit(batchSize).execute();
    if (rows.length === 0) return resealed;
    const last = rows[rows.length - 1]!;
    after = { rolloutId: last.rollout_id, ordinal: Number(last.ordinal) };
    for (const row of rows) {
      const text = row.previous_spec!;
      if (!ctx.specs.isStale(row.tenant_id, text, false)) continue;
      const result = await ctx.db
        .updateTable('rollout_members')
        .set({ previous_spec: ctx.specs.encode(row.tenant_id, ctx.specs.decode(row.tenant_id, text), false) })
        .where('rollout_id', '=', row.rollout_id)
        .where('ordinal', '=', row.ordinal)
        .where('previous_spec', '=', text)
        .executeTakeFirst();
      resealed += Number(result.numUpdatedRows);
    }
  }
}
