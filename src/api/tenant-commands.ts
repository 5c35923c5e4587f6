/**
 * Tenant writes as application functions — create, change the spec, roll back — shared by the
 * HTTP routes and by anything that changes tenants in bulk (a fleet rollout reuses them, dry runs
 * included). Each runs the full check a write gets (schema, plan, policy, privileges, If-Match,
 * name clash) and, unless it is a dry run, stores the result and wakes the controller. A dry run
 * stores nothing, appends no event and starts no run; it answers the tenant as it would be and
 * the RFC 6902 diff from the current spec.
 */
import type { TraceContext } from '../domain/tracing.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import { ConflictError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { PlanRevision } from '../domain/plan.js';
import type { TenantChange } from '../domain/tenant-change.js';
import {
  initialStatus,
  type JsonObject,
  type JsonValue,
  type Tenant,
  type TenantSpec,
} from '../domain/tenant.js';
import type { ApiContext } from './api-deps.js';
import { actorOf } from './api-deps.js';
import type { Principal } from './auth.js';
import { specDiff, type PatchOperation } from './spec-diff.js';
import { requireRevision } from './tenant-revisions-routes.js';
import {
  requirePlanRevision,
  resolveSpec,
  resolveSpecWithPlan,
  type SpecContext,
  type SpecRequest,
} from './tenant-spec.js';
import { wake, writeTenantWith, type WriteOptions } from './tenant-write.js';

export interface TenantOutcome {
  /** The tenant after the write; for a dry run, as it would be. */
  readonly tenant: Tenant;
  /** Whether the write changed (or, dry, would change) anything. */
  readonly changed: boolean;
  /** RFC 6902 operations from the spec before to the spec after (secrets `"***"`). */
  readonly diff: readonly PatchOperation[];
  readonly dryRun: boolean;
}

export interface CreateTenantInput {
  readonly name: string;
  readonly spec: SpecRequest;
}

export async function createTenant(
  ctx: ApiContext,
  principal: Principal,
  input: CreateTenantInput,
  /** `trace`: the request's trace context, which the reconcile and the webhook events continue. */
  options: { readonly dryRun?: boolean | undefined; readonly trace?: TraceContext | undefined } = {},
): Promise<TenantOutcome> {
  const writer = { principal, sentConfig: input.spec.config as JsonObject };
  const { spec, effectiveConfig } = await resolveSpec(ctx, input.spec, writer);
  const effectiveConfigHash = ctx.deps.hasher(effectiveConfig);
  if (options.dryRun === true) {
    const clash = await ctx.deps.store.tenants.get(input.name);
    if (clash && clash.name === input.name && clash.status.phase !== 'archived') {
      throw new ConflictError(`a tenant named '${input.name}' already exists`, { name: input.name });
    }
    const now = ctx.now().toISOString();
    const tenant: Tenant = {
      id: newId(),
      name: input.name,
      spec,
      generation: 1,
      status: { ...initialStatus(), effectiveConfigHash },
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    return { tenant, changed: true, diff: [], dryRun: true };
  }
  const tenant = await ctx.deps.store.tenants.create({
    name: input.name,
    spec,
    actor: actorOf(principal),
    effectiveConfigHash,
    ...(options.trace && { trace: options.trace }),
  });
  wake(ctx, { log: ctx.deps.logger }, tenant.id, 'api', options.trace);
  return { tenant, changed: true, diff: [], dryRun: false };
}

/** What a spec write sends: the next spec (as a PUT body would carry it) and the config it sent itself. */
export interface SpecChangeInput {
  readonly spec: SpecRequest;
  /** `spec.config` as the client sent it (a merge patch sends only part of it). */
  readonly sentConfig: JsonValue | undefined;
}

/**
 * Replaces the spec of `idOrName` with what `next` makes of the current tenant (re-run after a
 * lost race); null from `next` means nothing to change.
 */
export async function changeTenantSpec(
  ctx: ApiContext,
  principal: Principal,
  idOrName: string,
  next: (current: Tenant) => SpecChangeInput | null,
  options: WriteOptions = {},
): Promise<TenantOutcome> {
  const actor = actorOf(principal);
  const result = await writeTenantWith(
    ctx,
    idOrName,
    async (current): Promise<TenantChange | null> => {
      assertSpecWritable(current);
      const input = next(current);
      if (input === null) return null;
      const writer = { principal, sentConfig: input.sentConfig };
      const { spec, effectiveConfig } = await resolveSpec(ctx, input.spec, writer, current);
      // The same spec changes nothing (200), even where the stored hash predates it.
      if (sameSpec(spec, current.spec)) return null;
      return { actor, spec, status: { effectiveConfigHash: ctx.deps.hasher(effectiveConfig) } };
    },
    options,
  );
  return finish(ctx, result, options);
}

/**
 * A new generation whose spec equals that of `toGeneration` (its plan revision included), through
 * the same checks as any spec write. 404 when the tenant never had that generation; 409 when it is
 * the current generation or its spec is the current spec (nothing to roll back).
 */
export async function rollbackTenant(
  ctx: ApiContext,
  principal: Principal,
  idOrName: string,
  toGeneration: number,
  options: WriteOptions = {},
): Promise<TenantOutcome> {
  const actor = actorOf(principal);
  const result = await writeTenantWith(
    ctx,
    idOrName,
    async (current): Promise<TenantChange> => {
      assertSpecWritable(current);
      assertNotCurrent(current, toGeneration);
      const revision = await requireRevision(ctx, current, toGeneration);
      const ref = revision.spec.plan;
      const plan = ref ? await requirePlanRevision(ctx, ref, current) : undefined;
      const { change, effectiveConfig } = rollbackChangeOf(ctx, current, toGeneration, revision.spec, plan, {
        principal,
        actor,
      });
      return { ...change, status: { effectiveConfigHash: ctx.deps.hasher(effectiveConfig) } };
    },
    options,
  );
  return finish(ctx, result, options);
}

function assertNotCurrent(current: Tenant, toGeneration: number): void {
  if (toGeneration === current.generation) {
    throw new ConflictError(
      `tenant '${current.name}' is at generation ${toGeneration} already; nothing to roll back`,
      { generation: current.generation },
    );
  }
}

/**
 * The change that rolls `current` back to `toGeneration`, whose stored spec is `stored` (and whose
 * plan revision, when it names one, is `plan`): that spec re-checked as any write by `writer` is, as
 * a new generation. Reads nothing, so a fleet rollout's rollback makes the very same change inside
 * the transaction that records its member. ConflictError when there is nothing to roll back.
 */
export function rollbackChangeOf(
  ctx: SpecContext,
  current: Tenant,
  toGeneration: number,
  stored: TenantSpec,
  plan: PlanRevision | undefined,
  writer: { readonly principal: Principal; readonly actor: string },
): { change: TenantChange; effectiveConfig: JsonObject } {
  assertSpecWritable(current);
  assertNotCurrent(current, toGeneration);
  const spec = { principal: writer.principal, sentConfig: stored.config };
  const resolved = resolveSpecWithPlan(ctx, specRequestOf(stored), spec, plan, current);
  if (sameSpec(resolved.spec, current.spec)) {
    throw new ConflictError(
      `the spec of generation ${toGeneration} is the current spec of tenant '${current.name}'; nothing to roll back`,
      { generation: current.generation },
    );
  }
  const message = `rollback to generation ${toGeneration} requested by ${writer.actor}`;
  return {
    change: {
      actor: writer.actor,
      spec: resolved.spec,
      audit: [{ type: 'Audit', reason: 'RollbackRequested', message }],
    },
    effectiveConfig: resolved.effectiveConfig,
  };
}

function finish(
  ctx: ApiContext,
  result: { tenant: Tenant; changed: boolean; before: Tenant },
  options: WriteOptions,
): TenantOutcome {
  const dryRun = options.dryRun === true;
  if (result.changed && !dryRun) wake(ctx, { log: ctx.deps.logger }, result.tenant.id, 'api');
  const diff = specDiff(ctx.deps.providers, ctx.deps.hasher, result.before.spec, result.tenant.spec);
  return { tenant: result.tenant, changed: result.changed, diff, dryRun };
}

function assertSpecWritable(current: Tenant): void {
  const { phase } = current.status;
  if (phase === 'deleting' || phase === 'archived') {
    throw new ConflictError(`tenant '${current.name}' is ${phase}; its spec can no longer change`, { phase });
  }
}

/** A stored spec as a PUT body would carry it. */
export function specRequestOf(spec: TenantSpec): SpecRequest {
  return {
    provider: spec.provider,
    plan: spec.plan ? { name: spec.plan.name, revision: spec.plan.revision } : null,
    config: spec.config,
    labels: spec.labels,
    annotations: spec.annotations,
    retryPolicy: spec.retryPolicy,
    paused: spec.paused,
    suspended: spec.suspended ?? false,
  };
}

function sameSpec(a: TenantSpec, b: TenantSpec): boolean {
  return deepEqualJson({ ...a, plan: a.plan ?? null }, { ...b, plan: b.plan ?? null });
}
