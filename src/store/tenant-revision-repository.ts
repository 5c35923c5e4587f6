/**
 * Tenant revisions (`tenant_revisions`): the spec of every generation, written by the tenant
 * repository in the transaction that creates the generation (`insertRevision`), so no acknowledged
 * generation is ever without its revision. The spec text is the one the `tenants` row got — sealed
 * by the store's `SpecCodec`, bound to the tenant — and, once the tenant is archived, every
 * revision's secrets are erased as the row's are. Rows cascade from `tenants`: a purge takes them.
 */
import type { Insertable, Selectable } from 'kysely';
import { ValidationError } from '../domain/errors.js';
import type { TenantRevision } from '../domain/tenant-revision.js';
import type { TenantSpec } from '../domain/tenant.js';
import { decodeCursor, encodeCursor } from './codec.js';
import type { Executor, StoreContext } from './context.js';
import { preparedQuery, type QueryTarget } from './prepared-query.js';
import type { TenantRevisionsTable } from './schema.js';
import type { Page, TenantRevisionRepository } from './store.js';

/** Compiled once per database: a spec change writes one with every new generation. */
const insertRevisionQuery = preparedQuery((db, a: Insertable<TenantRevisionsTable>) =>
  db.insertInto('tenant_revisions').values({
    tenant_id: a.tenant_id,
    generation: a.generation,
    spec: a.spec,
    actor: a.actor,
    created_at: a.created_at,
  }),
);

export async function insertRevision(
  target: QueryTarget,
  tenantId: string,
  generation: number,
  spec: string,
  actor: string,
  at: string,
): Promise<void> {
  await insertRevisionQuery.affected(target, {
    tenant_id: tenantId,
    generation,
    spec,
    actor,
    created_at: at,
  });
}

/** Rewrites every revision of `tenantId` with its secret values erased (the tenant is archived). */
export async function eraseRevisionSecrets(ctx: StoreContext, db: Executor, tenantId: string): Promise<void> {
  const rows = await db
    .selectFrom('tenant_revisions')
    .select(['generation', 'spec'])
    .where('tenant_id', '=', tenantId)
    .execute();
  for (const row of rows) {
    if (!ctx.specs.isStale(tenantId, row.spec, true)) continue;
    const spec = ctx.specs.encode(tenantId, ctx.specs.decode(tenantId, row.spec), true);
    await db
      .updateTable('tenant_revisions')
      .set({ spec })
      .where('tenant_id', '=', tenantId)
      .where('generation', '=', row.generation)
      .execute();
  }
}

function toRevision(row: Selectable<TenantRevisionsTable>, ctx: StoreContext): TenantRevision {
  return {
    tenantId: row.tenant_id,
    generation: Number(row.generation),
    spec: ctx.specs.decode<TenantSpec>(row.tenant_id, row.spec),
    actor: row.actor,
    createdAt: row.created_at,
  };
}

export class KyselyTenantRevisionRepository implements TenantRevisionRepository {
  constructor(private readonly ctx: StoreContext) {}

  async list(
    tenantId: string,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<TenantRevision>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('tenant_revisions').selectAll().where('tenant_id', '=', tenantId);
    if (query.cursor !== undefined) q = q.where('generation', '<', cursorGeneration(query.cursor));
    const rows = await q
      .orderBy('generation', 'desc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => toRevision(row, this.ctx));
    const last = items[items.length - 1];
    const nextCursor = rows.length > limit && last ? encodeCursor([String(last.generation)]) : null;
    return { items, nextCursor };
  }

  async get(tenantId: string, generation: number): Promise<TenantRevision | undefined> {
    const row = await this.ctx.db
      .selectFrom('tenant_revisions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('generation', '=', generation)
      .executeTakeFirst();
    return row && toRevision(row, this.ctx);
  }
}

function cursorGeneration(cursor: string): number {
  const [text] = decodeCursor(cursor, 1);
  const generation = Number(text);
  if (Number.isSafeInteger(generation) && generation >= 1) return generation;
  throw new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'not a cursor this server issued' },
  ]);
}
