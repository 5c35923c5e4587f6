/**
 * `lessor apply -f FILE [--dry-run]`: the declarative write GitOps users expect. The file holds
 * plans and tenants (manifests.ts); plans are applied first — in file order — so tenants made from
 * them find them, then tenants. Each is created or updated by name (apply-resources.ts); applying
 * an unchanged file again changes nothing. The first failure stops the apply: what was applied
 * before it stays applied (each resource is one server write) and the command exits with the
 * failure's code.
 */
import type { Command } from 'commander';
import { action, type CliIo, type CommandContext } from './context.js';
import { applyPlan, applyTenant, appliedText, appliedWire, type Applied } from './apply-resources.js';
import { parseManifests, type PlanManifest, type TenantManifest } from './manifests.js';
import { render } from './output.js';
import { readInputFile } from './tenant-input.js';

interface ApplyFlags {
  readonly file: string;
  readonly dryRun?: boolean;
}

export function registerApplyCommand(program: Command, io: CliIo): void {
  program
    .command('apply')
    .description('create or update the plans and tenants of a YAML file (kind: Plan | Tenant), by name')
    .requiredOption('-f, --file <file>', 'YAML or JSON; several documents separated by --- (- for stdin)')
    .option('--dry-run', 'check everything on the server and show the diffs; change nothing')
    .action(action(io, applyFile));
}

async function applyFile(ctx: CommandContext, flags: ApplyFlags): Promise<void> {
  const source = flags.file === '-' ? 'standard input' : flags.file;
  const manifests = parseManifests(readInputFile(flags.file), source);
  const plans = manifests.filter((m): m is PlanManifest => m.kind === 'Plan');
  const tenants = manifests.filter((m): m is TenantManifest => m.kind === 'Tenant');
  await applyAll(ctx, plans, tenants, flags.dryRun === true);
}

/** Applies plans then tenants, printing each result as it comes (table) or all at the end. */
export async function applyAll(
  ctx: CommandContext,
  plans: readonly PlanManifest[],
  tenants: readonly TenantManifest[],
  dryRun: boolean,
): Promise<void> {
  const results: Applied[] = [];
  const done = (applied: Applied) => {
    results.push(applied);
    if (ctx.format === 'table') ctx.out(appliedText(applied));
  };
  try {
    const newPlans = new Set<string>();
    for (const plan of plans) {
      const applied = await applyPlan(ctx, plan, dryRun);
      if (applied.action === 'created') newPlans.add(plan.name);
      done(applied);
    }
    for (const tenant of tenants) done(await applyTenant(ctx, tenant, { dryRun, newPlans }));
  } finally {
    if (ctx.format !== 'table') ctx.out(render({ items: results.map(appliedWire) }, ctx.render, () => ''));
  }
}
