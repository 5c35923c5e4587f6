/**
 * How the tenant commands print: one tenant, the result of a write, the rows of `--watch`, and the
 * end of a `--wait` (exit code 7 with the last error when the tenant failed, 8 on timeout).
 */
import type { Tenant } from '../api/types.js';
import type { CommandContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { CommandFailure } from './failure.js';
import { render, renderTable, renderYaml, rowStream } from './output.js';
import { computeSummary, generationSummary, TENANT_COLUMNS, TENANT_STREAM_WIDTHS } from './views.js';
import type { WaitResult } from './wait.js';

export function printTenant(ctx: CommandContext, tenant: Tenant): void {
  ctx.out(render(tenant, ctx.render, () => renderTable([tenant], TENANT_COLUMNS, ctx.render.tty)));
}

/** After a write without --wait: `tenant/acme created` in table mode, the object otherwise. */
export function printWritten(ctx: CommandContext, tenant: Tenant, verb: string): void {
  if (ctx.format === 'table') ctx.out(`tenant/${tenant.name} ${verb}\n`);
  else printTenant(ctx, tenant);
}

/**
 * Prints each observation of a followed tenant: table rows under one header, one JSON document per
 * line (NDJSON), or YAML documents separated by `---`.
 */
export function watchPrinter(ctx: CommandContext): (tenant: Tenant) => void {
  let first = true;
  const row = rowStream(TENANT_COLUMNS, TENANT_STREAM_WIDTHS);
  return (tenant) => {
    if (ctx.format === 'json') ctx.out(`${JSON.stringify(tenant)}\n`);
    else if (ctx.format === 'yaml') ctx.out(`${first ? '' : '---\n'}${renderYaml(tenant)}`);
    else ctx.out(row(tenant));
    first = false;
  };
}

/** Ends a `--wait`: prints the tenant as it settled and turns failure or timeout into an exit. */
export function finishWait(ctx: CommandContext, result: WaitResult, what: string, printFinal = true): number {
  if (printFinal) printTenant(ctx, result.tenant);
  const name = result.tenant.name;
  if (result.outcome === 'done') return ExitCode.OK;
  if (result.outcome === 'failed') {
    throw new CommandFailure(
      ExitCode.TENANT_FAILED,
      `tenant ${name} failed: ${result.reason}`,
      failureDetails(result.tenant),
    );
  }
  throw new CommandFailure(
    ExitCode.TIMEOUT,
    `timed out waiting for tenant ${name} to ${what} (phase ${result.tenant.status.phase}, compute ${computeSummary(result.tenant)}, generation ${generationSummary(result.tenant)})`,
  );
}

function failureDetails(tenant: Tenant): string[] {
  const details: string[] = [];
  const run = tenant.status.workflow;
  if (run) details.push(`  run: ${run.runId} (${run.action}, ${run.state}, attempt ${run.attempt})`);
  if (tenant.status.compute) details.push(`  execution: ${tenant.status.compute.executionId}`);
  const degraded = tenant.status.conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
  if (degraded) details.push(`  condition: Degraded/${degraded.reason}`);
  return details;
}
