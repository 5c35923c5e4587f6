/**
 * Re-sealing the secrets at rest under the current key (`lessor secrets rotate-key`, and sealing
 * what was stored before sealing existed). One pass over the tenants in id order, in batches: a row
 * whose spec is stale (a secret value unsealed or under an older key; an archived tenant's secret
 * not erased) is re-encoded and written back in one transaction per batch, each row compare-and-set
 * on the exact text read, so a concurrent writer's newer row is never overwritten. Safe beside
 * running servers and idempotent: a second pass finds nothing to do. A final count says how many
 * rows are still stale — rows a server whose current key is older wrote meanwhile.
 */
import { isSealed, sealedKeyId } from '../domain/secret-key-ring.js';
import { transaction, type StoreContext } from './context.js';
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
  let tenants = 0;
  let resealed = 0;
  for (let after: string | null = null; ;) {
    const rows = await tenantPage(ctx, after, batchSize);
    if (rows.length === 0) break;
    tenants += rows.length;
    after = rows[rows.length - 1]!.id;
    resealed += await rewrite(
      ctx,
      rows.flatMap((row) => rewriteOf(ctx, row)),
    );
  }
  return { tenants, resealed, serverSecrets, remaining: await countStale(ctx, batchSize) };
}

/** Tenant rows still stale (a verification pass; nothing is written). */
export async function countStale(ctx: StoreContext, batchSize = DEFAULT_BATCH): Promise<number> {
  let stale = 0;
  for (let after: string | null = null; ;) {
    const rows = await tenantPage(ctx, after, batchSize);
    if (rows.length === 0) return stale;
    after = rows[rows.length - 1]!.id;
    stale += rows.filter((row) => ctx.specs.isStale(row.id, row.spec, isArchived(row))).length;
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
