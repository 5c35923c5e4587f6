/**
 * `lessor executions get ID`, `lessor runs get ID`, `lessor providers list|schema TYPE` and
 * `lessor callbacks list|redrive ID`: the resources around tenants.
 */
import type { Command } from 'commander';
import type { ComputeExecutionWithHistory, WorkflowRun } from '../api/types.js';
import { CALLBACK_STATES, parseChoice, type CallbackState } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { addPageFlags, parser } from './flags.js';
import { render, renderJson, renderList, renderTable } from './output.js';
import { collectPages } from './paging.js';
import {
  CALLBACK_COLUMNS,
  EXECUTION_COLUMNS,
  HISTORY_COLUMNS,
  PROVIDER_COLUMNS,
  RUN_COLUMNS,
  STEP_COLUMNS,
} from './views.js';

export function registerResourceCommands(program: Command, io: CliIo): void {
  const executions = program.command('executions').alias('execution').description('compute executions');
  executions
    .command('get <id>')
    .description('one compute execution with its status history')
    .action(action(io, getExecution));

  const runs = program.command('runs').alias('run').description('workflow runs');
  runs.command('get <id>').description('one workflow run with its step journal').action(action(io, getRun));

  const providers = program
    .command('providers')
    .alias('provider')
    .description('configured compute providers');
  providers
    .command('list')
    .alias('ls')
    .description('configured providers and the default')
    .action(action(io, listProviders));
  providers
    .command('schema <type>')
    .description("JSON Schema of a provider's spec.config (JSON unless -o yaml)")
    .action(action(io, providerSchema));

  registerCallbackCommands(program, io);
}

function registerCallbackCommands(program: Command, io: CliIo): void {
  const callbacks = program
    .command('callbacks')
    .alias('callback')
    .description('callbacks of compute executions');
  const list = callbacks
    .command('list')
    .alias('ls')
    .description('callbacks; --state dead lists the parked ones')
    .option(
      '--state <state>',
      `only callbacks in this state (${CALLBACK_STATES.join(', ')})`,
      parser(parseChoice(CALLBACK_STATES, 'state')),
    );
  addPageFlags(list).action(action(io, listCallbacks));
  callbacks
    .command('redrive <id>')
    .description('re-deliver a dead callback (admin)')
    .action(action(io, redriveCallback));
}

async function getExecution(ctx: CommandContext, id: string): Promise<void> {
  const execution = await ctx.client().getExecution(id);
  ctx.out(render(execution, ctx.render, () => executionTable(execution, ctx.render.tty)));
}

function executionTable(execution: ComputeExecutionWithHistory, tty: boolean): string {
  const history = renderTable(execution.history, HISTORY_COLUMNS, tty);
  return `${renderTable([execution], EXECUTION_COLUMNS, tty)}\nHistory:\n${history}`;
}

async function getRun(ctx: CommandContext, id: string): Promise<void> {
  const run = await ctx.client().getRun(id);
  ctx.out(render(run, ctx.render, () => runTable(run, ctx.render.tty)));
}

function runTable(run: WorkflowRun, tty: boolean): string {
  const steps = run.steps.length === 0 ? 'No steps yet.\n' : renderTable(run.steps, STEP_COLUMNS, tty);
  const error = run.error === null || run.error === undefined ? '' : `Error: ${JSON.stringify(run.error)}\n`;
  return `${renderTable([run], RUN_COLUMNS, tty)}${error}\nSteps:\n${steps}`;
}

async function listProviders(ctx: CommandContext): Promise<void> {
  const list = await ctx.client().listProviders();
  ctx.out(render(list, ctx.render, () => renderTable(list.items, PROVIDER_COLUMNS, ctx.render.tty)));
}

/** A schema has no sensible table: `-o table` (the default) prints JSON. */
async function providerSchema(ctx: CommandContext, type: string): Promise<void> {
  const schema = await ctx.client().providerSchema(type);
  ctx.out(render(schema, ctx.render, () => renderJson(schema)));
}

async function listCallbacks(
  ctx: CommandContext,
  flags: { state?: CallbackState; limit?: number; all?: boolean },
) {
  const client = ctx.client();
  const page = await collectPages(flags.all, (cursor) =>
    client.listCallbacks({
      ...(flags.state && { state: flags.state }),
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, CALLBACK_COLUMNS, ctx.render, 'No callbacks found.'));
}

async function redriveCallback(ctx: CommandContext, id: string): Promise<void> {
  const callback = await ctx.client().redriveCallback(id);
  if (ctx.format === 'table') ctx.out(`callback/${callback.id} redriven (state ${callback.state})\n`);
  else ctx.out(render(callback, ctx.render, () => ''));
}
