/**
 * Rollouts and their members (see `RolloutRepository` for the invariants). A member's tenant is
 * changed in the same transaction that records the member's new state, through the tenant's one
 * change path (`changeTenantIn`), so a crash leaves either both or neither. The rollout's `change`
 * may carry secret values (a patch of `spec.config`): with secrets at rest it is sealed as a whole,
 * bound to the rollout; a member's previous spec is sealed like the tenant's own spec.
 */
import type { Selectable } from 'kysely';
import { ConflictError, NotFoundError, PreconditionFailedError } from '../domain/errors.js';
import {
  FINAL_ROLLOUT_PHASES,
  initialControl,
  type MemberState,
  type Rollout,
  type RolloutMember,
  type RolloutPhase,
} from '../domain/rollout.js';
import { isSealed } from '../domain/secret-key-ring.js';
import type { Tenant, TenantSpec, TenantStatus } from '../domain/tenant.js';
import { decodeCursor, fromFlag, fromJson, nowIso, pageOf, toFlag, toJson } from './codec.js';
import { transaction, type Executor, type StoreContext, type Transaction } from './context.js';
import { insertEvents } from './event-repository.js';
import type { RolloutMembersTable, RolloutsTable } from './schema.js';
import type {
  MemberDecision,
  MemberEventOf,
  MemberPatch,
  MemberTally,
  MemberUpdate,
  NewRollout,
  Page,
  RolloutPublisher,
  RolloutRepository,
  WatchedMember,
} from './store.js';
import { changeTenantIn } from './tenant-repository.js';
import { findTenantRow, toTenant } from './tenant-rows.js';
import { insertRolloutWebhookEvent } from './webhook-outbox.js';

/** Rows per multi-row insert and ids per `in (…)` list: well under both engines' parameter limits. */
const BATCH = 200;

type MemberRow = Selectable<RolloutMembersTable>;

const WATCHED_COLUMNS = [
  'm.rollout_id',
  'm.ordinal',
  'm.tenant_id',
  'm.tenant_name',
  'm.wave',
  'm.state',
  'm.active_tenant_id',
  'm.snapshot_generation',
  'm.from_generation',
  'm.to_generation',
  'm.rollback_generation',
  'm.merged',
  'm.error',
  'm.started_at',
  'm.healthy_since',
  'm.finished_at',
] as const;

export class KyselyRolloutRepository implements RolloutRepository {
  constructor(private readonly ctx: StoreContext) {}

  async create(input: NewRollout, publish?: RolloutPublisher): Promise<Rollout> {
    const now = nowIso();
    const row: RolloutsTable = {
      id: input.id,
      description: input.description,
      selector: JSON.stringify(input.selector),
      change: this.sealChange(input.id, JSON.stringify(input.change)),
      strategy: JSON.stringify(input.strategy),
      failure_policy: JSON.stringify(input.failurePolicy),
      phase: 'running',
      control: JSON.stringify(initialControl()),
      wave_times: JSON.stringify(input.strategy.waves.map(() => ({ startedAt: null, finishedAt: null }))),
      total: input.members.length,
      created_by: input.createdBy,
      created_by_role: input.createdByRole,
      version: 1,
      created_at: now,
      updated_at: now,
      finished_at: null,
    };
    try {
      await transaction(this.ctx, async (trx, tx) => {
        await assertFree(
          trx,
          input.members.map((m) => m.tenantId),
        );
        await trx.insertInto('rollouts').values(row).execute();
        for (let i = 0; i < input.members.length; i += BATCH) {
          const rows = input.members.slice(i, i + BATCH).map((m, j) => newMemberRow(input.id, i + j, m));
          await trx.insertInto('rollout_members').values(rows).execute();
        }
        const webhook = publish?.(this.toRollout(row));
        if (webhook) await insertRolloutWebhookEvent(tx, webhook.type, webhook.resource, now);
      });
    } catch (error) {
      if (!this.ctx.dialect.isUniqueViolation(error)) throw error;
      // A concurrent create took one of the tenants between the check and the insert.
      await assertFree(
        this.ctx.db,
        input.members.map((m) => m.tenantId),
      );
      throw new ConflictError('a tenant of this rollout is held by another rollout', {});
    }
    return this.toRollout(row);
  }

  async get(id: string): Promise<Rollout | undefined> {
    const row = await this.ctx.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toRollout(row);
  }

  async list(query: {
    limit: number;
    cursor?: string | undefined;
    phase?: RolloutPhase | undefined;
  }): Promise<Page<Rollout>> {
    let q = this.ctx.db.selectFrom('rollouts').selectAll();
    if (query.phase !== undefined) q = q.where('phase', '=', query.phase);
    if (query.cursor) {
      const [before] = decodeCursor(query.cursor, 1);
      q = q.where('id', '<', before!);
    }
    const rows = await q
      .orderBy('id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return pageOf(
      rows,
      query.limit,
      (row) => this.toRollout(row),
      (row) => [row.id],
    );
  }

  async tallies(id: string): Promise<readonly MemberTally[]> {
    const rows = await this.ctx.db
      .selectFrom('rollout_members')
      .select([
        'wave',
        'state',
        (eb) => eb.fn.countAll<number>().as('count'),
        (eb) => eb.fn.count<number>('to_generation').as('changed'),
      ])
      .where('rollout_id', '=', id)
      .groupBy(['wave', 'state'])
      .execute();
    return rows.map((r) => ({
      wave: Number(r.wave),
      state: r.state as MemberState,
      count: Number(r.count),
      changed: Number(r.changed),
    }));
  }

  async members(
    id: string,
    query: {
      limit: number;
      cursor?: string | undefined;
      state?: MemberState | undefined;
      wave?: number | undefined;
    },
  ): Promise<Page<RolloutMember>> {
    let q = this.ctx.db.selectFrom('rollout_members').selectAll().where('rollout_id', '=', id);
    if (query.state !== undefined) q = q.where('state', '=', query.state);
    if (query.wave !== undefined) q = q.where('wave', '=', query.wave);
    if (query.cursor) {
      const [after] = decodeCursor(query.cursor, 1);
      q = q.where('ordinal', '>', Number(after));
    }
    const rows = await q
      .orderBy('ordinal')
      .limit(query.limit + 1)
      .execute();
    return pageOf(rows, query.limit, toMember, (row) => [String(row.ordinal)]);
  }

  async rollbackable(id: string, limit: number): Promise<readonly RolloutMember[]> {
    const rows = await this.ctx.db
      .selectFrom('rollout_members')
      .selectAll()
      .where('rollout_id', '=', id)
      .where('state', 'in', ['succeeded', 'failed'])
      .where('to_generation', 'is not', null)
      .orderBy('ordinal')
      .limit(limit)
      .execute();
    return rows.map(toMember);
  }

  async previousSpec(id: string, ordinal: number): Promise<TenantSpec | undefined> {
    const row = await this.ctx.db
      .selectFrom('rollout_members')
      .select(['tenant_id', 'previous_spec'])
      .where('rollout_id', '=', id)
      .where('ordinal', '=', ordinal)
      .executeTakeFirst();
    if (!row?.previous_spec) return undefined;
    return this.ctx.specs.decode<TenantSpec>(row.tenant_id, row.previous_spec);
  }

  applyChange(
    id: string,
    ordinal: number,
    decide: (tenant: Tenant | undefined) => MemberDecision,
    eventOf?: MemberEventOf,
  ): Promise<RolloutMember> {
    return transaction(this.ctx, async (trx, tx) => {
      const member = await lockMember(this.ctx, trx, id, ordinal);
      if (member.state !== 'pending') return toMember(member);
      const tenant = await this.lockTenant(trx, member.tenant_id);
      const decision = decide(tenant);
      const now = nowIso();
      if (decision.kind !== 'change' || !tenant) {
        const state = decision.kind === 'skip' ? 'skipped' : 'failed';
        return withEvent(tx, await settle(trx, member, state, errorOf(decision), now), eventOf, now);
      }
      const applied = await changeTenantIn(this.ctx, tx, tenant.id, () => decision.change);
      const values = {
        state: 'inProgress',
        from_generation: tenant.generation,
        to_generation: applied.tenant.generation,
        previous_spec: this.ctx.specs.encode(tenant.id, tenant.spec, false),
        merged: toFlag(decision.merged),
        started_at: now,
        healthy_since: null,
      };
      return withEvent(tx, await writeMember(trx, member, values), eventOf, now);
    });
  }

  rollback(
    id: string,
    ordinal: number,
    decide: (tenant: Tenant | undefined, previous: TenantSpec) => MemberDecision,
    eventOf?: MemberEventOf,
  ): Promise<RolloutMember> {
    return transaction(this.ctx, async (trx, tx) => {
      const member = await lockMember(this.ctx, trx, id, ordinal);
      const changed =
        (member.state === 'succeeded' || member.state === 'failed') && member.to_generation !== null;
      if (!changed || member.previous_spec === null) return toMember(member);
      const tenant = await this.lockTenant(trx, member.tenant_id);
      const decision = decide(
        tenant,
        this.ctx.specs.decode<TenantSpec>(member.tenant_id, member.previous_spec),
      );
      const now = nowIso();
      if (decision.kind !== 'change' || !tenant) {
        return withEvent(tx, await settle(trx, member, 'rolledBack', errorOf(decision), now), eventOf, now);
      }
      const applied = await changeTenantIn(this.ctx, tx, tenant.id, () => decision.change);
      const values = {
        state: 'rollingBack',
        rollback_generation: applied.tenant.generation,
        started_at: now,
        healthy_since: null,
        finished_at: null,
      };
      return withEvent(tx, await writeMember(trx, member, values), eventOf, now);
    });
  }

  async updateMember(id: string, ordinal: number, from: MemberState, patch: MemberPatch): Promise<boolean> {
    const values = memberValues(patch);
    const result = await this.ctx.db
      .updateTable('rollout_members')
      .set(values)
      .where('rollout_id', '=', id)
      .where('ordinal', '=', ordinal)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async watchedMembers(
    id: string,
    query: {
      state: MemberState;
      limit: number;
      cursor?: string | undefined;
      tenantIds?: readonly string[] | undefined;
    },
  ): Promise<Page<WatchedMember>> {
    if (query.tenantIds?.length === 0) return { items: [], nextCursor: null };
    // Every column but the member's previous spec (a whole sealed spec), which watching never reads.
    let q = this.ctx.db
      .selectFrom('rollout_members as m')
      .leftJoin('tenants as t', 't.id', 'm.tenant_id')
      .select(WATCHED_COLUMNS)
      .select('t.status as tenant_status')
      .where('m.rollout_id', '=', id)
      .where('m.state', '=', query.state);
    if (query.tenantIds !== undefined) q = q.where('m.tenant_id', 'in', query.tenantIds.slice(0, BATCH));
    if (query.cursor) {
      const [after] = decodeCursor(query.cursor, 1);
      q = q.where('m.ordinal', '>', Number(after));
    }
    const rows = await q
      .orderBy('m.ordinal')
      .limit(query.limit + 1)
      .execute();
    return pageOf(
      rows,
      query.limit,
      ({ tenant_status, ...row }) => ({
        member: toMember({ ...row, previous_spec: null }),
        tenant: tenant_status === null ? undefined : { status: JSON.parse(tenant_status) as TenantStatus },
      }),
      (row) => [String(row.ordinal)],
    );
  }

  async updateMembers(id: string, updates: readonly MemberUpdate[]): Promise<ReadonlySet<number>> {
    // Members that take the same patch from the same state share one statement.
    const groups = new Map<string, { from: MemberState; values: Partial<MemberRow>; ordinals: number[] }>();
    for (const { ordinal, from, patch } of updates) {
      const key = JSON.stringify([from, patch]);
      const group = groups.get(key) ?? { from, values: memberValues(patch), ordinals: [] };
      group.ordinals.push(ordinal);
      groups.set(key, group);
    }
    if (groups.size === 0) return new Set();
    return transaction(this.ctx, async (trx, tx) => {
      const updated = new Set<number>();
      for (const { from, values, ordinals } of groups.values()) {
        for (let i = 0; i < ordinals.length; i += BATCH) {
          const rows = await trx
            .updateTable('rollout_members')
            .set(values)
            .where('rollout_id', '=', id)
            .where('state', '=', from)
            .where('ordinal', 'in', ordinals.slice(i, i + BATCH))
            .returning('ordinal')
            .execute();
          for (const row of rows) updated.add(Number(row.ordinal));
        }
      }
      // The events last (insertEvents' contract), in the order of `updates`.
      const now = nowIso();
      for (const { ordinal, tenantId, event } of updates) {
        if (event && updated.has(ordinal)) await insertEvents(tx, tenantId, [event], now);
      }
      return updated;
    });
  }

  async saveControl(
    id: string,
    update: { control: Rollout['control']; waveTimes: Rollout['waveTimes'] },
    expectedVersion: number,
    publish?: RolloutPublisher,
  ): Promise<Rollout> {
    return transaction(this.ctx, async (trx, tx) => {
      const now = nowIso();
      const final = FINAL_ROLLOUT_PHASES.includes(update.control.phase);
      const result = await trx
        .updateTable('rollouts')
        .set({
          phase: update.control.phase,
          control: JSON.stringify(update.control),
          wave_times: JSON.stringify(update.waveTimes),
          version: expectedVersion + 1,
          updated_at: now,
          finished_at: final ? now : null,
        })
        .where('id', '=', id)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) {
        const current = await trx
          .selectFrom('rollouts')
          .select('version')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!current) throw new NotFoundError('rollout', id);
        throw new PreconditionFailedError(expectedVersion, Number(current.version));
      }
      if (final) {
        await trx
          .updateTable('rollout_members')
          .set({ active_tenant_id: null })
          .where('rollout_id', '=', id)
          .execute();
      }
      const row = await trx.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const saved = this.toRollout(row);
      const webhook = publish?.(saved);
      if (webhook) await insertRolloutWebhookEvent(tx, webhook.type, webhook.resource, now);
      return saved;
    });
  }

  async holders(tenantIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    return findHolders(this.ctx.db, tenantIds);
  }

  private async lockTenant(trx: Executor, tenantId: string): Promise<Tenant | undefined> {
    const row = await findTenantRow(this.ctx, trx, tenantId, true);
    return row && row.id === tenantId ? toTenant(row, this.ctx.specs) : undefined;
  }

  private sealChange(id: string, json: string): string {
    return this.ctx.secrets ? this.ctx.secrets.ring.seal(json, `rollout:${id}`) : json;
  }

  private openChange(id: string, text: string): string {
    return this.ctx.secrets && isSealed(text) ? this.ctx.secrets.ring.open(text, `rollout:${id}`) : text;
  }

  private toRollout(row: RolloutsTable | Selectable<RolloutsTable>): Rollout {
    return {
      id: row.id,
      description: row.description,
      selector: JSON.parse(row.selector) as Rollout['selector'],
      change: JSON.parse(this.openChange(row.id, row.change)) as Rollout['change'],
      strategy: JSON.parse(row.strategy) as Rollout['strategy'],
      failurePolicy: JSON.parse(row.failure_policy) as Rollout['failurePolicy'],
      control: JSON.parse(row.control) as Rollout['control'],
      waveTimes: JSON.parse(row.wave_times) as Rollout['waveTimes'],
      total: Number(row.total),
      createdBy: row.created_by,
      createdByRole: row.created_by_role as Rollout['createdByRole'],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      version: Number(row.version),
    };
  }
}

/** Appends the event `eventOf` names for the member's new state, in the member's transaction. */
async function withEvent(
  tx: Transaction,
  member: RolloutMember,
  eventOf: MemberEventOf | undefined,
  now: string,
): Promise<RolloutMember> {
  if (eventOf) await insertEvents(tx, member.tenantId, [eventOf(member)], now);
  return member;
}

/** The column values of a member patch. */
function memberValues(patch: MemberPatch): Partial<MemberRow> {
  const values: Partial<MemberRow> = {};
  if (patch.state !== undefined) values.state = patch.state;
  if (patch.error !== undefined) values.error = toJson(patch.error);
  if (patch.healthySince !== undefined) values.healthy_since = patch.healthySince;
  if (patch.finishedAt !== undefined) values.finished_at = patch.finishedAt;
  return values;
}

function newMemberRow(
  rolloutId: string,
  ordinal: number,
  member: NewRollout['members'][number],
): RolloutMembersTable {
  return {
    rollout_id: rolloutId,
    ordinal,
    tenant_id: member.tenantId,
    tenant_name: member.tenantName,
    wave: member.wave,
    state: 'pending',
    active_tenant_id: member.tenantId,
    snapshot_generation: member.generation,
    from_generation: null,
    to_generation: null,
    rollback_generation: null,
    previous_spec: null,
    merged: 0,
    error: null,
    started_at: null,
    healthy_since: null,
    finished_at: null,
  };
}

async function findHolders(db: Executor, tenantIds: readonly string[]): Promise<Map<string, string>> {
  const holders = new Map<string, string>();
  for (let i = 0; i < tenantIds.length; i += BATCH) {
    const rows = await db
      .selectFrom('rollout_members')
      .select(['active_tenant_id', 'rollout_id'])
      .where('active_tenant_id', 'in', tenantIds.slice(i, i + BATCH))
      .execute();
    for (const row of rows) if (row.active_tenant_id) holders.set(row.active_tenant_id, row.rollout_id);
  }
  return holders;
}

/** ConflictError naming the held tenants (up to 20) and their rollouts. */
async function assertFree(db: Executor, tenantIds: readonly string[]): Promise<void> {
  const holders = await findHolders(db, tenantIds);
  if (holders.size === 0) return;
  const held = [...holders].slice(0, 20).map(([tenantId, rolloutId]) => ({ tenantId, rolloutId }));
  throw new ConflictError(`${holders.size} tenant(s) are already in an unfinished rollout`, { held });
}

async function lockMember(ctx: StoreContext, trx: Executor, id: string, ordinal: number): Promise<MemberRow> {
  const query = trx
    .selectFrom('rollout_members')
    .selectAll()
    .where('rollout_id', '=', id)
    .where('ordinal', '=', ordinal);
  const row = await ctx.dialect.lockForUpdate(query).executeTakeFirst();
  if (!row) throw new NotFoundError('rollout member', `${id}#${ordinal}`);
  return row;
}

function errorOf(decision: MemberDecision): { code: string; message: string } {
  if (decision.kind === 'fail') return decision.error;
  if (decision.kind === 'skip') return { code: 'Skipped', message: decision.reason };
  return { code: 'TenantGone', message: 'the tenant no longer exists' };
}

async function settle(
  trx: Executor,
  member: MemberRow,
  state: MemberState,
  error: { code: string; message: string },
  now: string,
): Promise<RolloutMember> {
  return writeMember(trx, member, { state, error: JSON.stringify(error), finished_at: now });
}

async function writeMember(
  trx: Executor,
  member: MemberRow,
  values: Partial<MemberRow>,
): Promise<RolloutMember> {
  await trx
    .updateTable('rollout_members')
    .set(values)
    .where('rollout_id', '=', member.rollout_id)
    .where('ordinal', '=', member.ordinal)
    .execute();
  return toMember({ ...member, ...values });
}

function toMember(row: MemberRow): RolloutMember {
  const num = (value: number | null): number | null => (value === null ? null : Number(value));
  return {
    rolloutId: row.rollout_id,
    ordinal: Number(row.ordinal),
    tenantId: row.tenant_id,
    tenantName: row.tenant_name,
    wave: Number(row.wave),
    state: row.state as MemberState,
    snapshotGeneration: Number(row.snapshot_generation),
    fromGeneration: num(row.from_generation),
    toGeneration: num(row.to_generation),
    rollbackGeneration: num(row.rollback_generation),
    merged: fromFlag(Number(row.merged)),
    error: fromJson<RolloutMember['error']>(row.error, null),
    startedAt: row.started_at,
    healthySince: row.healthy_since,
    finishedAt: row.finished_at,
  };
}
