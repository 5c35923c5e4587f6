/**
 * `lessor tenants …`: the read side (list, get [--watch], events, executions) and the group that
 * holds the write commands of tenant-write-commands.ts.
 */
import type { Command } from 'commander';
import type { LessorClient } from '../api/client.js';
import type { ListTenantsParams, Tenant } from '../api/types.js';
import { EXECUTION_STATUSES, parseChoice, parsePhase, parseSelector, type ExecutionStatus } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { addPageFlags, addTimeoutFlag, parser, type WaitFlags } from './flags.js';
import { render, renderList, renderTable, type Column } from './output.js';
import { PHASES } from '../domain/tenant.js';
import { collectPages } from './paging.js';
import { finishWait, printTenant, watchPrinter } from './tenant-output.js';
import { registerTenantDiffCommand } from './tenant-diff-command.js';
import { registerTenantRuntimeCommands } from './tenant-runtime-commands.js';
import { registerTenantWriteCommands } from './tenant-write-commands.js';
import { EVENT_COLUMNS, EXECUTION_COLUMNS, REVISION_COLUMNS, TENANT_COLUMNS } from './views.js';
import { waitForTenant } from './wait.js';

interface ListFlags {
  readonly phase?: ListTenantsParams['phase'];
  readonly provider?: string;
  readonly selector?: string;
  readonly prefix?: string;
  readonly limit?: number;
  readonly all?: boolean;
  readonly archived?: boolean;
}

interface PageFlags {
  readonly limit?: number;
  readonly all?: boolean;
}

export function registerTenantCommands(program: Command, io: CliIo): void {
  const tenants = program
    .command('tenants')
    .alias('tenant')
    .description('create, inspect, change and delete tenants');
  const list = tenants
    .command('list')
    .alias('ls')
    .description('list tenants (archived ones only with --archived)')
    .option('--phase <phase>', 'only tenants in this phase', parser(parsePhase))
    .option('--provider <type>', 'only tenants of this provider')
    .option('-l, --selector <selector>', 'label selector, e.g. plan=pro,tier!=free', parser(parseSelector))
    .option('--prefix <prefix>', 'only names starting with this prefix')
    .option('--archived', 'include archived tenants');
  addPageFlags(list).action(action(io, listTenants));
  const get = tenants
    .command('get <name>')
    .description('show one tenant (by name or id)')
    .option('-w, --watch', 'follow the tenant and print each change until it settles (exit 7 if it fails)');
  addTimeoutFlag(get).action(action(io, getTenant));
  tenants
    .command('summary')
    .description('how many tenants are in each phase (counted by the server)')
    .option('--provider <type>', 'only tenants of this provider')
    .action(action(io, summarizeTenants));
  registerHistoryCommands(tenants, io);
  registerTenantDiffCommand(tenants, io);
  registerTenantWriteCommands(tenants, io);
  registerTenantRuntimeCommands(tenants, io);
}

async function summarizeTenants(ctx: CommandContext, flags: { provider?: string }): Promise<void> {
  const summary = await ctx.client().tenantSummary(flags.provider ? { provider: flags.provider } : {});
  const rows = [
    ...PHASES.map((phase) => ({ phase, count: summary.phases[phase] })),
    { phase: 'total (not archived)', count: summary.total },
  ];
  const columns: Column<(typeof rows)[number]>[] = [
    { header: 'PHASE', value: (row) => row.phase },
    { header: 'TENANTS', value: (row) => String(row.count) },
  ];
  ctx.out(render(summary, ctx.render, () => renderTable(rows, columns, ctx.render.tty)));
}

/** events and executions of one tenant. */
function registerHistoryCommands(tenants: Command, io: CliIo): void {
  const events = tenants
    .command('events <name>')
    .description("the tenant's phase transitions and audit events, oldest first");
  addPageFlags(events).action(action(io, tenantEvents));
  const history = tenants
    .command('history <name>')
    .description('the spec of every generation of the tenant, newest first (secrets ***)');
  addPageFlags(history).action(action(io, tenantHistory));
  const executions = tenants
    .command('executions <name>')
    .description("the tenant's compute executions")
    .option(
      '--status <status>',
      `only executions with this status (${EXECUTION_STATUSES.join(', ')})`,
      parser(parseChoice(EXECUTION_STATUSES, 'status')),
    );
  addPageFlags(executions).action(action(io, tenantExecutions));
}

async function listTenants(ctx: CommandContext, flags: ListFlags): Promise<void> {
  const client = ctx.client();
  const params: ListTenantsParams = {
    ...(flags.phase && { phase: flags.phase }),
    ...(flags.provider && { provider: flags.provider }),
    ...(flags.selector && { labels: flags.selector }),
    ...(flags.prefix && { q: flags.prefix }),
    ...(flags.limit !== undefined && { limit: flags.limit }),
    ...(flags.archived && { includeArchived: true }),
  };
  const page = await collectPages(flags.all, (cursor) =>
    client.listTenants({ ...params, ...(cursor && { cursor }) }),
  );
  ctx.out(renderList(page.items, TENANT_COLUMNS, ctx.render));
  if (page.nextCursor !== null && ctx.format === 'table') ctx.err('(more tenants: use --all or --limit)');
}

async function getTenant(
  ctx: CommandContext,
  name: string,
  flags: WaitFlags & { watch?: boolean },
): Promise<number> {
  const client = ctx.client();
  const tenant = await client.getTenant(name);
  if (!flags.watch) {
    printTenant(ctx, tenant);
    return 0;
  }
  return watchTenant(ctx, client, tenant, flags.timeout);
}

async function watchTenant(
  ctx: CommandContext,
  client: LessorClient,
  tenant: Tenant,
  timeoutMs: number,
): Promise<number> {
  const criteria = { goal: 'settled' as const, generation: tenant.generation, staleRun: null };
  const result = await waitForTenant(
    { client, tenantId: tenant.id, criteria, timeoutMs, onChange: watchPrinter(ctx) },
    tenant,
  );
  return finishWait(ctx, result, 'settle', false);
}

async function tenantEvents(ctx: CommandContext, name: string, flags: PageFlags): Promise<void> {
  const client = ctx.client();
  const limit = flags.limit;
  const page = await collectPages(flags.all, (cursor) =>
    client.tenantEvents(name, {
      ...(limit !== undefined && { limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, EVENT_COLUMNS, ctx.render, 'No events found.'));
}

async function tenantHistory(ctx: CommandContext, name: string, flags: PageFlags): Promise<void> {
  const client = ctx.client();
  const limit = flags.limit;
  const page = await collectPages(flags.all, (cursor) =>
    client.tenantRevisions(name, {
      ...(limit !== undefined && { limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, REVISION_COLUMNS, ctx.render, 'No revisions found.'));
}

async function tenantExecutions(
  ctx: CommandContext,
  name: string,
  flags: PageFlags & { status?: ExecutionStatus },
): Promise<void> {
  const client = ctx.client();
  const { status } = flags;
  const page = await collectPages(flags.all, (cursor) =>
    client.tenantExecutions(name, {
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
      ...(status && { status }),
    }),
  );
  ctx.out(renderList(page.items, EXECUTION_COLUMNS, ctx.render, 'No executions found.'));
}
