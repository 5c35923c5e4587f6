/**
 * Plans (`plans`, `plan_revisions`): a plan row holds the latest revision number; each revision is
 * an immutable row whose `content` (`{description, spec, allowedOverrides}`) has its secret config
 * values sealed by the store's plan codec, bound to the plan's name. A new revision is written
 * compare-and-set on the latest revision number, so two concurrent writers never both make
 * revision N+1. Deleting a plan removes its revisions (cascade) and is refused while a tenant that
 * is not archived uses it (checked in the delete's transaction, on the indexed `tenants.plan_name`).
 */
import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../domain/errors.js';
import type { Plan, PlanContent, PlanRevision, PlanSpec } from '../domain/plan.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import { decodeCursor, encodeCursor, nowIso } from './codec.js';
import { transaction, type Executor, type StoreContext } from './context.js';
import type { PlanRevisionsTable } from './schema.js';
import type { Page, PlanRepository, PlanWrite, PlanWriteResult } from './store.js';

export function encodePlanContent(ctx: StoreContext, name: string, content: PlanContent): string {
  const spec = JSON.parse(ctx.planSpecs.encode<PlanSpec>(name, content.spec, false)) as PlanSpec;
  return JSON.stringify({
    description: content.description,
    spec,
    allowedOverrides: content.allowedOverrides,
  });
}

export function decodePlanContent(ctx: StoreContext, name: string, text: string): PlanContent {
  const parsed = JSON.parse(text) as PlanContent;
  return { ...parsed, spec: ctx.planSpecs.decode<PlanSpec>(name, JSON.stringify(parsed.spec)) };
}

/** Whether the content's secrets are not sealed under the current key (see SpecCodec.isStale). */
export function planContentStale(ctx: StoreContext, name: string, text: string): boolean {
  const parsed = JSON.parse(text) as PlanContent;
  return ctx.planSpecs.isStale(name, JSON.stringify(parsed.spec), false);
}

/**
 * Inside a tenant write's transaction: the plan revision a spec names exists, and (PostgreSQL) the
 * plan row stays locked against deletion until the write commits. Throws ValidationError naming it.
 */
export async function assertPlanRevision(
  ctx: StoreContext,
  db: Executor,
  ref: { readonly name: string; readonly revision: number },
): Promise<void> {
  const select = db.selectFrom('plans').select('revision').where('name', '=', ref.name);
  const plan = await (ctx.dialect.name === 'postgres' ? select.forKeyShare() : select).executeTakeFirst();
  if (!plan || ref.revision < 1 || ref.revision > Number(plan.revision)) {
    const what = plan
      ? `plan '${ref.name}' has no revision ${ref.revision}`
      : `plan '${ref.name}' does not exist`;
    throw new ValidationError(what, [{ path: 'spec.plan', message: what }]);
  }
}

function toRevision(ctx: StoreContext, row: Selectable<PlanRevisionsTable>): PlanRevision {
  return {
    name: row.plan_name,
    revision: Number(row.revision),
    ...decodePlanContent(ctx, row.plan_name, row.content),
    actor: row.actor,
    createdAt: row.created_at,
  };
}

function sameContent(a: PlanContent, b: PlanContent): boolean {
  return deepEqualJson(
    { description: a.description, spec: a.spec, allowedOverrides: a.allowedOverrides },
    { description: b.description, spec: b.spec, allowedOverrides: b.allowedOverrides },
  );
}

export class KyselyPlanRepository implements PlanRepository {
  constructor(private readonly ctx: StoreContext) {}

  async create(input: PlanWrite): Promise<Plan> {
    const now = nowIso();
    try {
      await transaction(this.ctx, async (trx) => {
        await trx
          .insertInto('plans')
          .values({ name: input.name, revision: 1, created_at: now, updated_at: now })
          .execute();
        await this.insertRevision(trx, input, 1, now);
      });
    } catch (error) {
      if (this.ctx.dialect.isUniqueViolation(error)) {
        throw new ConflictError(`a plan named '${input.name}' already exists`, { name: input.name });
      }
      throw error;
    }
    return { name: input.name, revision: 1, ...pick(input), createdAt: now, updatedAt: now };
  }

  async update(input: PlanWrite, options: { expectedRevision?: number } = {}): Promise<PlanWriteResult> {
    return transaction(this.ctx, async (trx) => {
      const current = await this.latestIn(trx, input.name);
      if (!current) throw new NotFoundError('plan', input.name);
      const { expectedRevision } = options;
      if (expectedRevision !== undefined && expectedRevision !== current.revision) {
        throw new PreconditionFailedError(expectedRevision, current.revision);
      }
      if (sameContent(current, input)) return { plan: current, changed: false };
      const now = nowIso();
      const revision = current.revision + 1;
      const updated = await trx
        .updateTable('plans')
        .set({ revision, updated_at: now })
        .where('name', '=', input.name)
        .where('revision', '=', current.revision)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) throw new PreconditionFailedError(current.revision, revision);
      await this.insertRevision(trx, input, revision, now);
      return {
        plan: { name: input.name, revision, ...pick(input), createdAt: current.createdAt, updatedAt: now },
        changed: true,
      };
    });
  }

  async upsert(input: PlanWrite): Promise<PlanWriteResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await this.get(input.name))) return { plan: await this.create(input), changed: true };
        return await this.update(input);
      } catch (error) {
        const raced = error instanceof ConflictError || error instanceof PreconditionFailedError;
        if (!raced || attempt >= 3) throw error;
      }
    }
  }

  get(name: string): Promise<Plan | undefined> {
    return this.latestIn(this.ctx.db, name);
  }

  async list(query: { limit: number; cursor?: string | undefined }): Promise<Page<Plan>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db
      .selectFrom('plans')
      .innerJoin('plan_revisions', (join) =>
        join
          .onRef('plan_revisions.plan_name', '=', 'plans.name')
          .onRef('plan_revisions.revision', '=', 'plans.revision'),
      )
      .select([
        'plans.name',
        'plans.revision',
        'plans.created_at',
        'plans.updated_at',
        'plan_revisions.content',
      ]);
    if (query.cursor !== undefined) q = q.where('plans.name', '>', decodeCursor(query.cursor, 1)[0]!);
    const rows = await q
      .orderBy('plans.name')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => ({
      name: row.name,
      revision: Number(row.revision),
      ...decodePlanContent(this.ctx, row.name, row.content),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.name]) : null };
  }

  async revisions(
    name: string,
    query: { limit: number; cursor?: string | undefined },
  ): Promise<Page<PlanRevision>> {
    const limit = Math.max(1, Math.floor(query.limit));
    let q = this.ctx.db.selectFrom('plan_revisions').selectAll().where('plan_name', '=', name);
    if (query.cursor !== undefined) q = q.where('revision', '<', revisionOfCursor(query.cursor));
    const rows = await q
      .orderBy('revision', 'desc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit).map((row) => toRevision(this.ctx, row));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([String(last.revision)]) : null };
  }

  async revision(name: string, revision: number): Promise<PlanRevision | undefined> {
    const row = await this.ctx.db
      .selectFrom('plan_revisions')
      .selectAll()
      .where('plan_name', '=', name)
      .where('revision', '=', revision)
      .executeTakeFirst();
    return row && toRevision(this.ctx, row);
  }

  async delete(name: string): Promise<void> {
    await transaction(this.ctx, async (trx) => {
      // PostgreSQL: FOR UPDATE conflicts with the KEY SHARE lock a tenant write holds on its plan
      // (`assertPlanRevision`), so a tenant written meanwhile is seen below, or sees no plan.
      const select = trx.selectFrom('plans').selectAll().where('name', '=', name);
      const plan = await (
        this.ctx.dialect.name === 'postgres' ? select.forUpdate() : select
      ).executeTakeFirst();
      if (!plan) throw new NotFoundError('plan', name);
      const users = await trx
        .selectFrom('tenants')
        .select('name')
        .where('plan_name', '=', name)
        .where('archived', '=', 0)
        .orderBy('id')
        .limit(11)
        .execute();
      if (users.length > 0) {
        const names = users.slice(0, 10).map((u) => u.name);
        const more = users.length > 10 ? ' and more' : '';
        throw new ConflictError(`plan '${name}' is used by tenant(s) ${names.join(', ')}${more}`, {
          tenants: names,
        });
      }
      await trx.deleteFrom('plans').where('name', '=', name).execute();
    });
  }

  private async latestIn(db: Executor, name: string): Promise<Plan | undefined> {
    const row = await db
      .selectFrom('plans')
      .innerJoin('plan_revisions', (join) =>
        join
          .onRef('plan_revisions.plan_name', '=', 'plans.name')
          .onRef('plan_revisions.revision', '=', 'plans.revision'),
      )
      .select([
        'plans.name',
        'plans.revision',
        'plans.created_at',
        'plans.updated_at',
        'plan_revisions.content',
      ])
      .where('plans.name', '=', name)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      name: row.name,
      revision: Number(row.revision),
      ...decodePlanContent(this.ctx, row.name, row.content),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  private async insertRevision(db: Executor, input: PlanWrite, revision: number, at: string): Promise<void> {
    await db
      .insertInto('plan_revisions')
      .values({
        plan_name: input.name,
        revision,
        content: encodePlanContent(this.ctx, input.name, input),
        actor: input.actor,
        created_at: at,
      })
      .execute();
  }
}

function pick(input: PlanWrite): PlanContent {
  return { description: input.description, spec: input.spec, allowedOverrides: input.allowedOverrides };
}

function revisionOfCursor(cursor: string): number {
  const revision = Number(decodeCursor(cursor, 1)[0]);
  if (Number.isSafeInteger(revision) && revision >= 1) return revision;
  throw new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'not a cursor this server issued' },
  ]);
}
