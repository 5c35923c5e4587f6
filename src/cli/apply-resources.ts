/**
 * Create-or-update of one plan or tenant by name, as `lessor apply` and `lessor plans apply` do it:
 * read the current object; absent → create; present → replace (PUT), which the server turns into
 * nothing when the document equals what it holds — no new plan revision, no new tenant generation
 * — so applying the same file twice changes nothing the second time. With `dryRun` the same
 * requests carry `?dryRun=true`: every server check runs, nothing is stored.
 */
import { ApiError } from '../api/client.js';
import type { DryRunTenant, Plan, Tenant } from '../api/types.js';
import type { CommandContext } from './context.js';
import type { PlanManifest, TenantManifest } from './manifests.js';
import { renderSpecChange } from './spec-change.js';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface Applied {
  readonly kind: 'Plan' | 'Tenant';
  readonly name: string;
  readonly action: ApplyAction;
  readonly dryRun: boolean;
  /** The server's answer (for a dry run: the object as it would be); null when not checked. */
  readonly object: Plan | DryRunTenant | null;
  /** Why a dry run could not ask the server about this one. */
  readonly note?: string;
  /** Table mode: the one-line summary and, for a dry run, the diff. */
  readonly summary: string;
  readonly diff: string;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

async function current<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function suffix(dryRun: boolean): string {
  return dryRun ? ' (dry run)' : '';
}

/** What a plan's revision consists of, as compared and shown. */
function planDocument(plan: Plan) {
  return { description: plan.description, spec: plan.spec, allowedOverrides: plan.allowedOverrides };
}

export async function applyPlan(
  ctx: CommandContext,
  manifest: PlanManifest,
  dryRun: boolean,
): Promise<Applied> {
  const client = ctx.client();
  const before = await current(() => client.getPlan(manifest.name));
  const plan = before
    ? await client.replacePlan(manifest.name, manifest.body, { dryRun })
    : await client.createPlan({ name: manifest.name, ...manifest.body }, { dryRun });
  const action: ApplyAction = !before
    ? 'created'
    : before.revision === plan.revision
      ? 'unchanged'
      : 'configured';
  const revisions =
    before && action === 'configured'
      ? `revision ${before.revision} -> ${plan.revision}`
      : `revision ${plan.revision}`;
  const diff =
    dryRun && action !== 'unchanged'
      ? renderSpecChange({
          from: before && planDocument(before),
          to: planDocument(plan),
          fromLabel: before ? `plan/${plan.name} revision ${before.revision}` : '(none)',
          toLabel: `plan/${plan.name} revision ${plan.revision}${suffix(dryRun)}`,
          color: ctx.render.tty,
        })
      : '';
  return {
    kind: 'Plan',
    name: manifest.name,
    action,
    dryRun,
    object: plan,
    summary: `plan/${manifest.name} ${action} (${revisions})${suffix(dryRun)}`,
    diff,
  };
}

export interface TenantApplyOptions {
  readonly dryRun: boolean;
  /** Plans this dry run would create: a tenant made from one cannot be checked by the server yet. */
  readonly newPlans?: ReadonlySet<string>;
}

export async function applyTenant(
  ctx: CommandContext,
  manifest: TenantManifest,
  options: TenantApplyOptions,
): Promise<Applied> {
  const { dryRun } = options;
  const client = ctx.client();
  const before = await current(() => client.getTenant(manifest.name));
  const planName = planOf(manifest);
  if (dryRun && planName !== undefined && options.newPlans?.has(planName)) {
    return uncheckedTenant(manifest, before, planName);
  }
  const after = before
    ? await client.replaceSpec(manifest.name, manifest.spec, { dryRun })
    : await client.createTenant({ name: manifest.name, spec: manifest.spec }, { dryRun });
  const action = tenantAction(before, after);
  const generations =
    before && action === 'configured'
      ? ` (generation ${before.generation} -> ${after.generation})`
      : action === 'unchanged'
        ? ` (generation ${after.generation})`
        : '';
  return {
    kind: 'Tenant',
    name: manifest.name,
    action,
    dryRun,
    object: after,
    summary: `tenant/${manifest.name} ${action}${generations}${suffix(dryRun)}`,
    diff: dryRun && action !== 'unchanged' ? tenantDiff(ctx, before, after) : '',
  };
}

function tenantAction(before: Tenant | undefined, after: DryRunTenant): ApplyAction {
  if (!before) return 'created';
  const changed = after.generation !== before.generation || (after.diff?.length ?? 0) > 0;
  return changed ? 'configured' : 'unchanged';
}

/** The diff of a tenant's spec from `before` (none: created) to the write's answer. */
export function tenantDiff(ctx: CommandContext, before: Tenant | undefined, after: DryRunTenant): string {
  return renderSpecChange({
    from: before?.spec,
    to: after.spec,
    fromLabel: before ? `tenant/${after.name} generation ${before.generation}` : '(none)',
    toLabel: `tenant/${after.name} generation ${after.generation} (dry run)`,
    patch: after.diff,
    color: ctx.render.tty,
  });
}

function planOf(manifest: TenantManifest): string | undefined {
  const plan = manifest.spec.plan;
  return plan && typeof plan.name === 'string' ? plan.name : undefined;
}

function uncheckedTenant(manifest: TenantManifest, before: Tenant | undefined, planName: string): Applied {
  const action: ApplyAction = before ? 'configured' : 'created';
  const note = `not checked: plan ${planName} is created by this apply`;
  return {
    kind: 'Tenant',
    name: manifest.name,
    action,
    dryRun: true,
    object: null,
    note,
    summary: `tenant/${manifest.name} ${action} (dry run; ${note})`,
    diff: '',
  };
}

/** Table mode: the summary line, then the diff of a dry run. JSON/YAML: see `appliedWire`. */
export function appliedText(applied: Applied): string {
  return `${applied.summary}\n${applied.diff}`;
}

/** What `-o json|yaml` prints for one applied resource. */
export function appliedWire(applied: Applied) {
  return {
    kind: applied.kind,
    name: applied.name,
    action: applied.action,
    dryRun: applied.dryRun,
    ...(applied.note !== undefined && { note: applied.note }),
    object: applied.object,
  };
}

/** Reads a resource, or undefined when it does not exist (404). */
export function readIfExists<T>(read: () => Promise<T>): Promise<T | undefined> {
  return current(read);
}
