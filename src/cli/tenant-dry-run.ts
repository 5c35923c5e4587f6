/**
 * `--dry-run` on the tenant writes. create, update, patch and rollback send the write with
 * `?dryRun=true`: the server runs every check (schema, plan, policy, privileges, If-Match, name
 * clash) and answers the tenant as it would be with its RFC 6902 `diff`; nothing is stored. delete
 * has no server dry run: the CLI reads the tenant and checks what the server would (it exists, the
 * If-Match version) without writing.
 */
import type { Command } from 'commander';
import type { DryRunTenant, Tenant } from '../api/types.js';
import { UsageError } from './args.js';
import { tenantDiff } from './apply-resources.js';
import type { CommandContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { CommandFailure } from './failure.js';
import { printTenant } from './tenant-output.js';

export interface DryRunFlags {
  readonly dryRun?: boolean;
  readonly wait?: boolean;
}

export function addDryRunFlag(command: Command, what = 'show what would change'): Command {
  return command.option('--dry-run', `${what}: the server checks everything and stores nothing`);
}

/** True for a dry run; a dry run cannot wait for a change that never happens. */
export function isDryRun(flags: DryRunFlags): boolean {
  if (flags.dryRun !== true) return false;
  if (flags.wait === true) throw new UsageError('--dry-run and --wait do not mix');
  return true;
}

/**
 * Prints a dry run's answer. Table: `tenant/acme updated (dry run): generation 2 -> 3` (or
 * `unchanged`) and the unified diff of the spec from `before` (none on create). JSON/YAML: the
 * server's answer as it is, `diff` included.
 */
export function printDryRun(
  ctx: CommandContext,
  after: DryRunTenant,
  before: Tenant | undefined,
  verb: string,
): number {
  if (ctx.format !== 'table') {
    printTenant(ctx, after);
    return ExitCode.OK;
  }
  const changed = before === undefined || (after.diff?.length ?? 0) > 0;
  if (!changed) {
    ctx.out(`tenant/${after.name} unchanged (dry run): generation ${after.generation}\n`);
    return ExitCode.OK;
  }
  const generations = before ? `: generation ${before.generation} -> ${after.generation}` : '';
  ctx.out(`tenant/${after.name} ${verb} (dry run)${generations}\n`);
  ctx.out(tenantDiff(ctx, before, after));
  return ExitCode.OK;
}

/** What `tenants delete --dry-run` checks and prints, from the tenant as it is now. */
export function previewDelete(ctx: CommandContext, tenant: Tenant, ifMatch: number | undefined): number {
  if (ifMatch !== undefined && ifMatch !== tenant.version) {
    throw new CommandFailure(
      ExitCode.CONFLICT,
      `tenant ${tenant.name} is at version ${tenant.version}, not ${ifMatch} (--if-match): the delete would be refused`,
    );
  }
  if (ctx.format !== 'table') {
    printTenant(ctx, tenant);
    return ExitCode.OK;
  }
  const phase = tenant.status.phase;
  const what =
    phase === 'deleting' || phase === 'archived'
      ? `already ${phase}: nothing would change`
      : `deleted (dry run): ${phase} -> deleting -> archived, its runtime removed`;
  ctx.out(`tenant/${tenant.name} ${what}\n`);
  return ExitCode.OK;
}
