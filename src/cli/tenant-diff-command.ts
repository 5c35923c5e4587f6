/**
 * `lessor tenants diff NAME [FROM] [TO]` (or `--generation G --against H`): how the spec changed
 * between two generations. Table: a unified diff of the two specs as YAML (coloured on a
 * terminal) with changed secret values listed by path; JSON/YAML: the server's RFC 6902 diff
 * `{from, to, patch}`. Defaults: TO is the current generation, FROM the one before TO.
 */
import type { Command } from 'commander';
import { parsePositiveInt, UsageError } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { positiveInt } from './flags.js';
import { render } from './output.js';
import { renderSpecChange } from './spec-change.js';

interface DiffFlags {
  readonly generation?: number;
  readonly against?: number;
}

export function registerTenantDiffCommand(tenants: Command, io: CliIo): void {
  tenants
    .command('diff <name> [generations...]')
    .description(
      'how the spec changed between two generations: `diff acme 1 3`, `diff acme 3` (against 2), or `diff acme` (the last change)',
    )
    .option(
      '--generation <g>',
      'the newer generation (default: the current one)',
      positiveInt('--generation'),
    )
    .option('--against <h>', 'the older generation (default: the one before)', positiveInt('--against'))
    .action(action(io, diffTenant));
}

async function diffTenant(
  ctx: CommandContext,
  name: string,
  generations: readonly string[],
  flags: DiffFlags,
): Promise<void> {
  const pair = await resolvePair(ctx, name, generations, flags);
  const client = ctx.client();
  const diff = await client.diffTenantRevisions(name, pair.to, pair.from);
  if (ctx.format !== 'table') {
    ctx.out(render(diff, ctx.render, () => ''));
    return;
  }
  const [from, to] = [
    await client.tenantRevision(name, pair.from),
    await client.tenantRevision(name, pair.to),
  ];
  const text = renderSpecChange({
    from: from.spec,
    to: to.spec,
    fromLabel: `tenant/${name} generation ${pair.from}`,
    toLabel: `tenant/${name} generation ${pair.to}`,
    patch: diff.patch,
    color: ctx.render.tty,
  });
  ctx.out(
    text === '' ? `tenant/${name}: generations ${pair.from} and ${pair.to} have the same spec\n` : text,
  );
}

async function resolvePair(
  ctx: CommandContext,
  name: string,
  generations: readonly string[],
  flags: DiffFlags,
): Promise<{ from: number; to: number }> {
  if (generations.length > 2) throw new UsageError('give at most two generations: FROM TO');
  if (generations.length > 0 && (flags.generation !== undefined || flags.against !== undefined)) {
    throw new UsageError('give the generations as arguments or as --generation/--against, not both');
  }
  const numbers = generations.map((g) => parsePositiveInt(g, 'a generation'));
  const [first, second] = numbers;
  const to =
    second ??
    (numbers.length === 1 ? first : undefined) ??
    flags.generation ??
    (await ctx.client().getTenant(name)).generation;
  const from = (numbers.length === 2 ? first : undefined) ?? flags.against ?? to - 1;
  if (from < 1)
    throw new UsageError(`tenant ${name} has no generation before ${to}: give the one to compare with`);
  return { from, to };
}
