/**
 * `lessor tenants logs|suspend|resume`: the runtime's output, and stopping a tenant's runtime while
 * keeping its data (spec.suspended) and starting it again.
 */
import type { Command } from 'commander';
import type { Tenant } from '../api/types.js';
import { parseDuration, parseNonNegativeInt } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { addWaitFlags, parser, type WaitFlags } from './flags.js';
import { finishWait, printWritten } from './tenant-output.js';
import { criteriaAfterWrite, waitForTenant, type WaitGoal } from './wait.js';

interface LogsFlags {
  readonly follow?: boolean;
  readonly tail?: number;
  readonly since?: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T/;

export function registerTenantRuntimeCommands(tenants: Command, io: CliIo): void {
  tenants
    .command('logs <name>')
    .description("the runtime's output (stdout and stderr), oldest first")
    .option('-f, --follow', 'keep printing new lines until interrupted or the tenant is deleted')
    .option(
      '--tail <n>',
      'only the last N lines',
      parser((v: string) => parseNonNegativeInt(v, '--tail')),
    )
    .option(
      '--since <when>',
      'only lines since a duration ago (10m, 1h) or an RFC 3339 time',
      parser(sinceOf),
    )
    .action(action(io, tenantLogs));
  addWaitFlags(
    tenants
      .command('suspend <name>')
      .description('stop the runtime but keep its resources and data (spec.suspended: true)'),
    'suspended',
  ).action(action(io, (ctx, name: string, flags: WaitFlags) => setSuspended(ctx, name, flags, true)));
  addWaitFlags(
    tenants.command('resume <name>').description('start a suspended runtime again (spec.suspended: false)'),
    'ready',
  ).action(action(io, (ctx, name: string, flags: WaitFlags) => setSuspended(ctx, name, flags, false)));
}

/** `10m` → that long ago; an RFC 3339 time as given. */
function sinceOf(value: string): string {
  if (RFC3339.test(value)) return value;
  return new Date(Date.now() - parseDuration(value)).toISOString();
}

async function tenantLogs(ctx: CommandContext, name: string, flags: LogsFlags): Promise<void> {
  const stop = new AbortController();
  const interrupted = (): void => stop.abort();
  process.once('SIGINT', interrupted);
  try {
    const params = {
      ...(flags.tail !== undefined && { tail: flags.tail }),
      ...(flags.since !== undefined && { since: flags.since }),
      ...(flags.follow === true && { follow: true }),
    };
    for await (const text of ctx.client().tenantLogs(name, params, stop.signal)) ctx.out(text);
  } finally {
    process.off('SIGINT', interrupted);
  }
}

async function setSuspended(ctx: CommandContext, name: string, flags: WaitFlags, suspended: boolean) {
  const client = ctx.client();
  const before = flags.wait ? await client.getTenant(name) : undefined;
  const after: Tenant = await client.patchTenant(name, { spec: { suspended } });
  const verb = suspended ? 'suspended' : 'resumed';
  if (!flags.wait) {
    printWritten(ctx, after, verb);
    return 0;
  }
  if (ctx.format === 'table') ctx.out(`tenant/${after.name} ${verb}\n`);
  const goal: WaitGoal = suspended ? 'suspended' : 'ready';
  const criteria = criteriaAfterWrite(goal, after, before);
  const result = await waitForTenant(
    { client, tenantId: after.id, criteria, timeoutMs: flags.timeout },
    after,
  );
  return finishWait(ctx, result, suspended ? 'be suspended' : 'become ready');
}
