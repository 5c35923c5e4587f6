/**
 * `lessor tenants create|update|patch|delete|retry`. Each sends one write and, with `--wait`,
 * follows the tenant until it settles: ready (archived for delete) → 0, failed → 7, timeout → 8.
 */
import type { Command } from 'commander';
import { ApiError } from '../api/client.js';
import type { Tenant } from '../api/types.js';
import { UsageError } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import {
  addIfMatchFlag,
  addSpecFlags,
  addWaitFlags,
  positiveInt,
  SECRET_ENV_FILE_OPTION,
  type WaitFlags,
} from './flags.js';
import { finishWait, printWritten } from './tenant-output.js';
import {
  hasSpecFlags,
  parseManifest,
  patchFromFlags,
  readInputFile,
  resolveName,
  specFromFlags,
  withPlan,
  withSecretEnv,
  withSecretEnvFile,
  type SpecFlags,
} from './tenant-input.js';
import { addDryRunFlag, isDryRun, previewDelete, printDryRun, type DryRunFlags } from './tenant-dry-run.js';
import { purgeTenant } from './tenant-purge.js';
import { criteriaAfterWrite, waitForTenant, type WaitGoal } from './wait.js';

interface CreateFlags extends SpecFlags, WaitFlags, DryRunFlags {
  readonly file?: string;
  readonly idempotencyKey?: string;
}

interface ChangeFlags extends SpecFlags, WaitFlags, DryRunFlags {
  readonly file?: string;
  readonly patch?: string;
  readonly ifMatch?: number;
}

interface DeleteFlags extends WaitFlags, DryRunFlags {
  readonly purge?: boolean;
  readonly ifMatch?: number;
  readonly ignoreNotFound?: boolean;
}

/** create, update and patch (spec writes). */
export function registerTenantWriteCommands(tenants: Command, io: CliIo): void {
  const create = tenants
    .command('create [name]')
    .description('create a tenant from flags or from a YAML/JSON file ({name, spec}), or from a plan')
    .option('-f, --file <file>', 'tenant manifest, YAML or JSON (- for stdin)')
    .option('--idempotency-key <key>', 'send Idempotency-Key: a repeated create returns the first result');
  addDryRunFlag(addWaitFlags(addSpecFlags(create), 'ready')).action(action(io, createTenant));

  const update = tenants
    .command('update <name>')
    .description('replace the spec (PUT) with the one in a YAML/JSON file')
    .requiredOption('-f, --file <file>', 'spec file: {spec}, {name, spec} or a bare spec (- for stdin)')
    .option(...SECRET_ENV_FILE_OPTION);
  addDryRunFlag(addWaitFlags(addIfMatchFlag(update), 'ready')).action(action(io, updateTenant));

  const patch = tenants
    .command('patch <name>')
    .description('change part of the spec (JSON merge patch) from flags and/or -p')
    .option('-p, --patch <json>', 'JSON merge patch of the tenant, e.g. \'{"spec":{"paused":true}}\'');
  addDryRunFlag(addWaitFlags(addIfMatchFlag(addSpecFlags(patch)), 'ready')).action(action(io, patchTenant));
  registerRemovalCommands(tenants, io);
}

/** delete (and purge) and retry. */
function registerRemovalCommands(tenants: Command, io: CliIo): void {
  const del = tenants
    .command('delete <name>')
    .alias('rm')
    .description('delete a tenant (deleting → archived); --purge removes an archived record')
    .option('--purge', 'remove the archived record (with --wait: delete, wait for archived, then purge)')
    .option('--ignore-not-found', 'exit 0 when the tenant does not exist');
  addDryRunFlag(addWaitFlags(addIfMatchFlag(del), 'archived'), 'check the delete without doing it').action(
    action(io, deleteTenant),
  );

  addWaitFlags(
    tenants
      .command('retry <name>')
      .description('retry a failed tenant: a new run for its current generation'),
    'ready',
  ).action(action(io, retryTenant));

  const rollback = tenants
    .command('rollback <name>')
    .description('a new generation whose spec equals an earlier one (see `tenants history`)')
    .requiredOption('--to <generation>', 'the generation to roll back to', positiveInt('--to'));
  addDryRunFlag(addWaitFlags(addIfMatchFlag(rollback), 'ready')).action(action(io, rollbackTenant));
}

async function rollbackTenant(
  ctx: CommandContext,
  name: string,
  flags: WaitFlags & DryRunFlags & { to: number; ifMatch?: number },
): Promise<number> {
  const client = ctx.client();
  const dryRun = isDryRun(flags);
  const before = flags.wait || (dryRun && ctx.format === 'table') ? await client.getTenant(name) : undefined;
  const after = await client.rollbackTenant(name, flags.to, { ...ifMatch(flags), dryRun });
  if (dryRun) return printDryRun(ctx, after, before, `rolled back to generation ${flags.to}`);
  return afterWrite(ctx, {
    after,
    before,
    verb: `rolled back to generation ${flags.to}`,
    flags,
    goal: 'ready',
  });
}

async function createTenant(
  ctx: CommandContext,
  name: string | undefined,
  flags: CreateFlags,
): Promise<number> {
  if (flags.file !== undefined && hasSpecFlags(flags))
    throw new UsageError('give either -f FILE or spec flags such as --image, not both');
  const dryRun = isDryRun(flags);
  const resolved = withSecretEnvFile(flags, flags.file);
  const manifest =
    flags.file === undefined ? undefined : parseManifest(readInputFile(flags.file), flags.file);
  const spec = manifest
    ? withPlan(withSecretEnv(manifest.spec, resolved.secretEnv), flags.plan)
    : specFromFlags(resolved);
  const request = { name: resolveName(name, manifest), spec };
  const key = flags.idempotencyKey === undefined ? {} : { idempotencyKey: flags.idempotencyKey };
  const tenant = await ctx.client().createTenant(request, { ...key, dryRun });
  if (dryRun) return printDryRun(ctx, tenant, undefined, 'created');
  return afterWrite(ctx, { after: tenant, verb: 'created', flags, goal: 'ready' });
}

async function updateTenant(ctx: CommandContext, name: string, flags: ChangeFlags): Promise<number> {
  if (hasSpecFlags(flags))
    throw new UsageError('update takes the spec from -f FILE only; use patch to change fields');
  const secrets = withSecretEnvFile(flags, flags.file ?? '-').secretEnv;
  const manifest = parseManifest(readInputFile(flags.file ?? '-'), flags.file ?? 'standard input');
  const spec = withSecretEnv(manifest.spec, secrets);
  const dryRun = isDryRun(flags);
  const client = ctx.client();
  const before = flags.wait || (dryRun && ctx.format === 'table') ? await client.getTenant(name) : undefined;
  const after = await client.replaceSpec(name, spec, { ...ifMatch(flags), dryRun });
  if (dryRun) return printDryRun(ctx, after, before, 'updated');
  return afterWrite(ctx, { after, before, verb: 'updated', flags, goal: 'ready' });
}

async function patchTenant(ctx: CommandContext, name: string, flags: ChangeFlags): Promise<number> {
  const client = ctx.client();
  const dryRun = isDryRun(flags);
  const needsCurrent =
    flags.wait === true ||
    (dryRun && ctx.format === 'table') ||
    (flags.port !== undefined && flags.provider === undefined);
  const before = needsCurrent ? await client.getTenant(name) : undefined;
  const patch = patchFromFlags(withSecretEnvFile(flags, undefined), flags.patch, before?.spec.provider);
  const after = await client.patchTenant(name, patch, { ...ifMatch(flags), dryRun });
  if (dryRun) return printDryRun(ctx, after, before, 'patched');
  return afterWrite(ctx, { after, before, verb: 'patched', flags, goal: 'ready' });
}

async function deleteTenant(ctx: CommandContext, name: string, flags: DeleteFlags): Promise<number> {
  try {
    if (isDryRun(flags)) {
      if (flags.purge)
        throw new UsageError('a purge cannot be previewed: `tenants list --archived` shows the record');
      return previewDelete(ctx, await ctx.client().getTenant(name), flags.ifMatch);
    }
    if (flags.purge) return await purgeTenant(ctx, name, flags);
    const after = await ctx.client().deleteTenant(name, ifMatch(flags));
    if (after === null) return 0;
    return await afterWrite(ctx, { after, verb: 'deleted', flags, goal: 'archived' });
  } catch (error) {
    if (flags.ignoreNotFound && error instanceof ApiError && error.status === 404) return 0;
    throw error;
  }
}

async function retryTenant(ctx: CommandContext, name: string, flags: WaitFlags): Promise<number> {
  const after = await ctx.client().retryTenant(name);
  const goal: WaitGoal = after.status.phase === 'deleting' ? 'archived' : 'ready';
  return afterWrite(ctx, { after, verb: 'retried', flags, goal });
}

function ifMatch(flags: { ifMatch?: number }): { ifMatch?: number } {
  return flags.ifMatch === undefined ? {} : { ifMatch: flags.ifMatch };
}

export interface WrittenTenant {
  readonly after: Tenant;
  readonly before?: Tenant | undefined;
  readonly verb: string;
  readonly flags: WaitFlags;
  readonly goal: WaitGoal;
}

/** Prints the write's result, or with --wait follows the tenant and ends like finishWait. */
export async function afterWrite(ctx: CommandContext, written: WrittenTenant): Promise<number> {
  const { after, before, verb, flags, goal } = written;
  if (!flags.wait) {
    printWritten(ctx, after, verb);
    return 0;
  }
  if (ctx.format === 'table') ctx.out(`tenant/${after.name} ${verb}\n`);
  const criteria = criteriaAfterWrite(goal, after, before);
  const result = await waitForTenant(
    { client: ctx.client(), tenantId: after.id, criteria, timeoutMs: flags.timeout },
    after,
  );
  return finishWait(ctx, result, goal === 'archived' ? 'be archived' : 'become ready');
}
