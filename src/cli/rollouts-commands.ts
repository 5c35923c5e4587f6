/**
 * `lessor rollouts create|get|list|tenants|pause|resume|promote|abort|rollback|watch`. `create`
 * builds the request from flags (`--selector`, one of `--set-image`/`--patch-file`, `--waves`,
 * `--max-parallel`, `--max-failed 5%|3`, `--on-halt`, `--pause-after`, `--dry-run`,
 * `--skip-invalid`); `watch` follows the event stream (SSE, not polling) and redraws one progress
 * bar per wave on each of the rollout's events, then exits with a code that says how the rollout
 * ended: 0 succeeded, 10 halted, 11 rolled back, 12 aborted.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CreateRolloutRequest, Rollout, RolloutCommand, RolloutDryRun } from '../api/types.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { CommandFailure } from './failure.js';
import { addPageFlags, parser, positiveInt } from './flags.js';
import { dash, render, renderList, type Column } from './output.js';

interface CreateFlags {
  readonly selector?: string;
  readonly names?: string;
  readonly setImage?: string;
  readonly patchFile?: string;
  readonly planRevision?: number;
  readonly plan?: string;
  readonly waves: string;
  readonly maxParallel?: number;
  readonly maxFailed?: string;
  readonly onHalt?: 'pause' | 'rollback';
  readonly pauseAfter?: string;
  readonly minHealthy?: number;
  readonly deadline?: number;
  readonly description?: string;
  readonly dryRun?: boolean;
  readonly skipInvalid?: boolean;
}

/** How a watched rollout ended. */
export const ROLLOUT_EXIT: Readonly<Record<string, number>> = {
  succeeded: ExitCode.OK,
  halted: ExitCode.ROLLOUT_HALTED,
  rolledBack: ExitCode.ROLLOUT_ROLLED_BACK,
  aborted: ExitCode.ROLLOUT_ABORTED,
};

const COMMANDS: readonly RolloutCommand[] = ['pause', 'resume', 'promote', 'abort', 'rollback'];

const ROLLOUT_COLUMNS: readonly Column<Rollout>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'PHASE', value: (r) => r.status.phase },
  { header: 'WAVE', value: (r) => `${r.status.currentWave + 1}/${r.status.waves.length}` },
  { header: 'TOTAL', value: (r) => String(r.status.counts.total) },
  { header: 'OK', value: (r) => String(r.status.counts.succeeded) },
  { header: 'FAILED', value: (r) => String(r.status.counts.failed) },
  { header: 'DESCRIPTION', value: (r) => dash(r.description) },
];

export function registerRolloutCommands(program: Command, io: CliIo): void {
  const rollouts = program.command('rollouts').alias('rollout').description('fleet changes in waves');
  rollouts
    .command('create')
    .description('change many tenants in waves (operator)')
    .option('--selector <labels>', 'label selector of the tenants, e.g. plan=pro')
    .option('--names <a,b,...>', 'exactly these tenants')
    .option('--plan <name>', 'only tenants made from this plan')
    .option('--set-image <image>', 'change spec.config.image')
    .option('--patch-file <file>', 'a JSON merge patch of spec (JSON or YAML)')
    .option(
      '--plan-revision <n>',
      'move plan tenants to this revision of their plan',
      positiveInt('--plan-revision'),
    )
    .option('--waves <list>', 'cumulative waves: counts or percents', '100%')
    .option('--max-parallel <n>', 'members in progress at once', positiveInt('--max-parallel'))
    .option('--max-failed <n|p%>', 'halt past this many failures, or this percent of a wave')
    .option('--on-halt <pause|rollback>', 'what a halt does', parser(parseOnHalt))
    .option('--pause-after <list>', 'wave numbers (1-based) after which to wait for promote')
    .option('--min-healthy <ms>', 'ready this long to count as succeeded', positiveInt('--min-healthy'))
    .option('--deadline <ms>', 'progress deadline per tenant', positiveInt('--deadline'))
    .option('--description <text>', 'a note for humans')
    .option('--dry-run', 'show the waves and invalid members; start nothing')
    .option('--skip-invalid', 'leave out members whose changed spec would be invalid')
    .action(action(io, createRollout));
  rollouts.command('get <id>').description('one rollout with its waves').action(action(io, getRollout));
  addPageFlags(rollouts.command('list').alias('ls').description('rollouts, newest first')).action(
    action(io, listRollouts),
  );
  addPageFlags(
    rollouts
      .command('tenants <id>')
      .description("a rollout's members")
      .option('--state <state>', 'only this state'),
  ).action(action(io, rolloutTenants));
  for (const command of COMMANDS) {
    rollouts
      .command(`${command} <id>`)
      .description(`${command} a rollout (operator)`)
      .action(action(io, (ctx: CommandContext, id: string) => commandRollout(ctx, id, command)));
  }
  rollouts
    .command('watch <id>')
    .description('live progress, one bar per wave; exit 0 succeeded, 10 halted, 11 rolled back, 12 aborted')
    .action(action(io, watchRollout));
}

function parseOnHalt(value: string): 'pause' | 'rollback' {
  if (value === 'pause' || value === 'rollback') return value;
  throw new CommandFailure(ExitCode.USAGE, `--on-halt must be pause or rollback, not '${value}'`);
}

function usage(message: string): CommandFailure {
  return new CommandFailure(ExitCode.USAGE, message);
}

/** `1,10%,100%` → `[1, "10%", "100%"]`. */
export function parseWaves(text: string): (number | `${number}%`)[] {
  return text.split(',').map((part) => {
    const item = part.trim();
    if (/^\d+$/.test(item)) return Number(item);
    if (/^\d+(\.\d+)?%$/.test(item)) return item as `${number}%`;
    throw usage(`--waves: '${item}' is neither a count nor a percent`);
  });
}

function changeOf(flags: CreateFlags): CreateRolloutRequest['change'] {
  const given = [flags.setImage, flags.patchFile, flags.planRevision].filter((f) => f !== undefined);
  if (given.length !== 1) {
    throw usage('give exactly one of --set-image, --patch-file and --plan-revision');
  }
  if (flags.planRevision !== undefined) return { planRevision: flags.planRevision };
  return { patch: patchOf(flags) };
}

function patchOf(flags: CreateFlags): Record<string, unknown> {
  if (flags.setImage !== undefined) return { config: { image: flags.setImage } };
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(flags.patchFile!, 'utf8'));
  } catch (error) {
    throw usage(`--patch-file: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw usage('--patch-file must hold an object');
  return parsed as Record<string, unknown>;
}

export function rolloutRequest(flags: CreateFlags): CreateRolloutRequest {
  if (flags.selector === undefined && flags.names === undefined && flags.plan === undefined)
    throw usage('give --selector, --names or --plan');
  const failurePolicy: NonNullable<CreateRolloutRequest['failurePolicy']> = {
    ...(flags.onHalt && { onHalt: flags.onHalt }),
  };
  if (flags.maxFailed !== undefined) {
    const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(flags.maxFailed.trim());
    if (!match) throw usage(`--max-failed: '${flags.maxFailed}' is neither a count nor a percent`);
    Object.assign(
      failurePolicy,
      match[2] ? { maxFailedPercent: Number(match[1]) } : { maxFailed: Number(match[1]) },
    );
  }
  const pauseAfterWaves = flags.pauseAfter?.split(',').map((w) => {
    if (!/^\d+$/.test(w.trim()) || Number(w) < 1) throw usage(`--pause-after: '${w}' is not a wave number`);
    return Number(w) - 1;
  });
  return {
    ...(flags.description !== undefined && { description: flags.description }),
    selector: {
      ...(flags.selector !== undefined && { labels: flags.selector }),
      ...(flags.names !== undefined && { names: flags.names.split(',').map((n) => n.trim()) }),
      ...(flags.plan !== undefined && { plan: flags.plan }),
    },
    change: changeOf(flags),
    strategy: {
      waves: parseWaves(flags.waves),
      ...(flags.maxParallel !== undefined && { maxParallel: flags.maxParallel }),
      ...(flags.minHealthy !== undefined && { minHealthyMs: flags.minHealthy }),
      ...(flags.deadline !== undefined && { progressDeadlineMs: flags.deadline }),
      ...(pauseAfterWaves && { pauseAfterWaves }),
    },
    failurePolicy,
  };
}

async function createRollout(ctx: CommandContext, flags: CreateFlags): Promise<number> {
  const request = rolloutRequest(flags);
  if (flags.dryRun) {
    const plan = await ctx.client().planRollout(request);
    ctx.out(render(plan, ctx.render, () => planText(plan)));
    return plan.invalid.length > 0 && !flags.skipInvalid ? ExitCode.VALIDATION : ExitCode.OK;
  }
  const rollout = await ctx.client().createRollout(request, { skipInvalid: flags.skipInvalid === true });
  ctx.out(render(rollout, ctx.render, () => rolloutText(rollout)));
  return ExitCode.OK;
}

function planText(plan: RolloutDryRun): string {
  const lines = [`${plan.total} tenant(s) in ${plan.waves.length} wave(s):`];
  for (const wave of plan.waves) {
    const names = wave.tenants.slice(0, 10).join(', ');
    const more = wave.tenants.length > 10 ? ` and ${wave.tenants.length - 10} more` : '';
    lines.push(`  wave ${wave.index + 1}: ${wave.size} — ${names}${more}`);
  }
  if (plan.invalid.length > 0) {
    lines.push(`${plan.invalid.length} invalid member(s):`);
    for (const member of plan.invalid)
      lines.push(`  ${member.tenant}: ${member.error.code}: ${member.error.message}`);
  }
  return `${lines.join('\n')}\n`;
}

async function getRollout(ctx: CommandContext, id: string): Promise<void> {
  const rollout = await ctx.client().getRollout(id);
  ctx.out(render(rollout, ctx.render, () => rolloutText(rollout)));
}

async function listRollouts(ctx: CommandContext, flags: { limit?: number; cursor?: string }): Promise<void> {
  const page = await ctx.client().listRollouts({ limit: flags.limit, cursor: flags.cursor });
  ctx.out(renderList(page.items, ROLLOUT_COLUMNS, ctx.render, 'No rollouts found.'));
}

async function rolloutTenants(
  ctx: CommandContext,
  id: string,
  flags: { limit?: number; cursor?: string; state?: string },
): Promise<void> {
  const page = await ctx.client().rolloutTenants(id, {
    limit: flags.limit,
    cursor: flags.cursor,
    ...(flags.state !== undefined && { state: flags.state as never }),
  });
  const columns: Column<(typeof page.items)[number]>[] = [
    { header: 'TENANT', value: (m) => m.tenant },
    { header: 'WAVE', value: (m) => String(m.wave + 1) },
    { header: 'STATE', value: (m) => m.state },
    { header: 'FROM', value: (m) => dash(m.fromGeneration) },
    { header: 'TO', value: (m) => dash(m.toGeneration) },
    { header: 'ERROR', value: (m) => dash(m.error ? `${m.error.code}: ${m.error.message}` : null) },
  ];
  ctx.out(renderList(page.items, columns, ctx.render, 'No members found.'));
}

async function commandRollout(ctx: CommandContext, id: string, command: RolloutCommand): Promise<void> {
  const rollout = await ctx.client().commandRollout(id, command);
  ctx.out(render(rollout, ctx.render, () => rolloutText(rollout)));
}

/** The rollout as text: a summary line, then one progress bar per wave. */
export function rolloutText(rollout: Rollout, width = 30): string {
  const { status } = rollout;
  const c = status.counts;
  const head =
    `rollout ${rollout.id} ${status.phase}${status.haltReason ? ` (${status.haltReason})` : ''}: ` +
    `${c.succeeded}/${c.total} succeeded, ${c.failed} failed, ${c.inProgress} in progress, ` +
    `${c.skipped} skipped, ${c.rolledBack} rolled back`;
  const bars = status.waves.map((wave) => {
    const done = wave.succeeded + wave.failed + wave.skipped + wave.rolledBack;
    const filled = wave.size === 0 ? width : Math.round((done / wave.size) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    return `wave ${wave.index + 1} [${bar}] ${done}/${wave.size} (${wave.failed} failed, ${wave.inProgress} in progress)`;
  });
  return `${[head, ...bars].join('\n')}\n`;
}

function endOf(rollout: Rollout): number | undefined {
  const { phase, counts } = rollout.status;
  if (phase === 'halted' && counts.inProgress > 0) return undefined;
  return ROLLOUT_EXIT[phase];
}

async function watchRollout(ctx: CommandContext, id: string): Promise<number> {
  const client = ctx.client();
  const abort = new AbortController();
  let lines = 0;
  const draw = (rollout: Rollout): void => {
    const text = rolloutText(rollout);
    // On a terminal the bars are redrawn in place; elsewhere each change is printed anew.
    if (ctx.render.tty && lines > 0) ctx.out(`\u001b[${lines}A\u001b[J`);
    ctx.out(text);
    lines = text.split('\n').length - 1;
  };
  // Subscribe first, then read: a change between the two is seen in the stream.
  const events = client.streamEvents({ signal: abort.signal });
  const first = events.next();
  let rollout = await client.getRollout(id);
  draw(rollout);
  let end = endOf(rollout);
  try {
    if (end !== undefined) return end;
    for (let next = await first; !next.done; next = await events.next()) {
      const data = next.value.data.data;
      if (data?.rolloutId !== id) continue;
      rollout = await client.getRollout(id);
      draw(rollout);
      end = endOf(rollout);
      if (end !== undefined) return end;
    }
    throw new CommandFailure(ExitCode.GENERIC, 'the event stream ended before the rollout did');
  } finally {
    abort.abort();
    await events.return(undefined).catch(() => undefined);
  }
}
