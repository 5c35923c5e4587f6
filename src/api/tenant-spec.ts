/**
 * From what a client wrote to the spec the store keeps: the provider resolved (and immutable once
 * set), `"***"` placeholders of secret fields put back from the stored spec (so a client may send a
 * spec it read), the plan reference resolved and pinned, the policy applied (plan-policy.ts), the
 * writer's right to the fields it touches checked (spec-privileges.ts), and the effective config —
 * plan config, overrides, provider defaults — validated. The stored spec is the USER's: for a plan
 * tenant `config` holds only its overrides, and defaults are applied again at execution time, so
 * changing a default reaches every tenant on its next update.
 */
import type { z } from 'zod';
import { NotSupportedError, ValidationError } from '../domain/errors.js';
import { planConfig, type PlanRevision } from '../domain/plan.js';
import type { JsonObject, JsonValue, Tenant, TenantSpec } from '../domain/tenant.js';
import type { ApiContext, ApiDeps, ApiOptions } from './api-deps.js';
import type { Principal } from './auth.js';
import { assertPlanPolicy } from './plan-policy.js';
import { httpError, type HttpProblem } from './problem.js';
import { TenantSpecRequestSchema } from './schemas.js';
import { assertSpecPrivileges } from './spec-privileges.js';

export type SpecRequest = z.output<typeof TenantSpecRequestSchema>;

const REDACTED = '***';

/** Who writes the spec, and the `spec.config` they sent themselves (a merge patch sends part of it). */
export interface SpecWriter {
  readonly principal: Principal;
  readonly sentConfig: JsonValue | undefined;
}

/** What spec resolution reads besides the store: the provider catalog and the API options (an `ApiContext` is one). */
export interface SpecContext {
  readonly deps: Pick<ApiDeps, 'providers'>;
  readonly options: Pick<ApiOptions, 'defaultProvider' | 'rawSpecs'>;
}

/** A spec ready to store, and the config it runs with (plan config, overrides and defaults merged). */
export interface ResolvedSpec {
  readonly spec: TenantSpec;
  readonly effectiveConfig: JsonObject;
}

export async function resolveSpec(
  ctx: ApiContext,
  input: SpecRequest,
  writer: SpecWriter,
  current?: Tenant,
): Promise<ResolvedSpec> {
  const plan = input.plan ? await requirePlanRevision(ctx, input.plan, current) : undefined;
  return resolveSpecWithPlan(ctx, input, writer, plan, current);
}

/**
 * The checks of a spec write once its plan revision (if any) is known: provider, plan policy,
 * privileged fields, the merged config against the provider's schema. Reads nothing, so it may run
 * where no store call is allowed (inside a store transaction's decision).
 */
export function resolveSpecWithPlan(
  ctx: SpecContext,
  input: SpecRequest,
  writer: SpecWriter,
  plan: PlanRevision | undefined,
  current?: Tenant,
): ResolvedSpec {
  const { providers } = ctx.deps;
  const wanted = input.provider ?? plan?.spec.provider;
  if (plan && input.provider !== undefined && input.provider !== plan.spec.provider) {
    throw planError(
      `plan '${plan.name}' runs on provider '${plan.spec.provider}', not '${input.provider}'`,
      'spec.provider',
    );
  }
  const provider = current
    ? keepProvider(current, wanted)
    : providers.resolveProvider(wanted, ctx.options.defaultProvider);
  const config: JsonObject = current
    ? restoreSecrets(ctx, input.config as JsonObject, current)
    : (input.config as JsonObject);
  assertPlanPolicy(ctx, writer.principal, plan, config);
  assertSpecPrivileges(providers, {
    principal: writer.principal,
    provider,
    next: config,
    previous: current?.spec.config,
    sent: writer.sentConfig,
  });
  const merged = plan ? planConfig(plan.spec.config, config) : config;
  const effectiveConfig = validated(ctx, provider, merged, plan);
  if (input.suspended && !providers.supports(provider, 'suspend')) {
    throw new NotSupportedError(provider, 'suspend and resume (spec.suspended)');
  }
  const spec: TenantSpec = {
    provider,
    ...(plan && { plan: { name: plan.name, revision: plan.revision } }),
    config,
    labels: input.labels,
    annotations: input.annotations,
    retryPolicy: input.retryPolicy,
    paused: input.paused,
    // Absent means false: a spec that was never suspended stays as it was stored (same generation).
    ...((input.suspended || current?.spec.suspended !== undefined) && { suspended: input.suspended }),
  };
  return { spec, effectiveConfig };
}

/**
 * The plan revision a spec names: `revision`, else the one the tenant is pinned to when it stays on
 * the same plan, else the plan's latest. An unknown plan or revision is 422 naming it.
 */
export async function requirePlanRevision(
  ctx: ApiContext,
  ref: { readonly name: string; readonly revision?: number | undefined },
  current?: Tenant,
): Promise<PlanRevision> {
  const pinned = current?.spec.plan?.name === ref.name ? current.spec.plan.revision : undefined;
  const wanted = ref.revision ?? pinned;
  const { plans } = ctx.deps.store;
  const revision =
    wanted !== undefined
      ? await plans.revision(ref.name, wanted)
      : await plans.get(ref.name).then((plan) => plan && plans.revision(plan.name, plan.revision));
  if (revision) return revision;
  const exists = wanted !== undefined && (await plans.get(ref.name)) !== undefined;
  throw planError(
    exists ? `plan '${ref.name}' has no revision ${wanted}` : `plan '${ref.name}' does not exist`,
    exists ? 'spec.plan.revision' : 'spec.plan.name',
  );
}

/** The config a spec runs with: plan revision config, overrides and provider defaults merged. */
export async function effectiveConfigOf(ctx: ApiContext, spec: TenantSpec): Promise<JsonObject> {
  const base = spec.plan
    ? await ctx.deps.store.plans.revision(spec.plan.name, spec.plan.revision)
    : undefined;
  const merged = base ? planConfig(base.spec.config, spec.config) : spec.config;
  return ctx.deps.providers.mergedConfig(spec.provider, merged);
}

function validated(
  ctx: SpecContext,
  provider: string,
  merged: JsonObject,
  plan: PlanRevision | undefined,
): JsonObject {
  try {
    return ctx.deps.providers.effectiveConfig(provider, merged).config;
  } catch (error) {
    // A plan tenant's overrides that break the merged config: 422, naming the merged paths.
    if (!plan || !(error instanceof ValidationError)) throw error;
    throw httpError(
      'VALIDATION_FAILED',
      `the config of plan '${plan.name}' revision ${plan.revision} with these overrides is not valid: ${error.message}`,
      { status: 422, problems: error.problems },
    );
  }
}

function planError(message: string, path: string): HttpProblem {
  return httpError('VALIDATION_FAILED', message, { status: 422, problems: [{ path, message }] });
}

/** Parses a spec that came out of a merge patch with the same rules as a PUT body. */
export function parsePatchedSpec(value: unknown): SpecRequest {
  const parsed = TenantSpecRequestSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => {
    const path = ['spec', ...issue.path.map(String)].join('.');
    const keys = (issue as { keys?: unknown }).keys;
    if (issue.code === 'unrecognized_keys' && Array.isArray(keys)) {
      return keys.map((key) => ({ path: `${path}.${String(key)}`, message: 'unknown field' }));
    }
    return [{ path, message: issue.message }];
  });
  throw new ValidationError('the patched spec is not valid', problems);
}

function keepProvider(current: Tenant, wanted: string | undefined): string {
  if (wanted === undefined || wanted === current.spec.provider) return current.spec.provider;
  throw new ValidationError('spec.provider cannot change', [
    {
      path: 'spec.provider',
      message: `is '${current.spec.provider}' and cannot change; delete and re-create the tenant`,
    },
  ]);
}

function restoreSecrets(ctx: SpecContext, config: JsonObject, current: Tenant): JsonObject {
  const stored = current.spec.config;
  const redacted = ctx.deps.providers.redactSecrets(current.spec.provider, stored);
  return restore(config, stored, redacted) as JsonObject;
}

/** Where the client sent `"***"` and the stored value is a redacted secret, keep the stored value. */
export function restore(
  next: JsonValue,
  stored: JsonValue | undefined,
  redacted: JsonValue | undefined,
): JsonValue {
  if (next === REDACTED && redacted === REDACTED && stored !== undefined) return stored;
  if (isArray(next)) {
    const storedItems = isArray(stored) ? stored : [];
    const redactedItems = isArray(redacted) ? redacted : [];
    return next.map((item, i) => restore(item, storedItems[i], redactedItems[i]));
  }
  if (isObject(next)) {
    const storedObject = isObject(stored) ? stored : {};
    const redactedObject = isObject(redacted) ? redacted : {};
    const out: Record<string, JsonValue> = {};
    for (const [key, value] of Object.entries(next)) {
      out[key] = restore(value, own(storedObject, key), own(redactedObject, key));
    }
    return out;
  }
  return next;
}

function own(object: JsonObject, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

function isArray(value: JsonValue | undefined): value is readonly JsonValue[] {
  return Array.isArray(value);
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
