/**
 * `lessor plans list|get|apply|revisions|diff|delete`. Plans are admin-owned templates of a
 * tenant spec with numbered, immutable revisions (docs/api.md, "Plans"); `apply -f` creates or
 * updates them by name (a changed plan becomes a new revision, an unchanged one stays as it is).
 */
import type { Command } from 'commander';
import type { PlanRevision } from '../api/types.js';
import { UsageError } from './args.js';
import { applyAll } from './apply-command.js';
import { isNotFound } from './apply-resources.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { addPageFlags, positiveInt } from './flags.js';
import { parseManifests, type PlanManifest } from './manifests.js';
import { render, renderList, renderTable } from './output.js';
import { collectPages } from './paging.js';
import { renderSpecChange } from './spec-change.js';
import { readInputFile } from './tenant-input.js';
import { PLAN_COLUMNS, PLAN_REVISION_COLUMNS } from './views.js';

interface PageFlags {
  readonly limit?: number;
  readonly all?: boolean;
}

export function registerPlanCommands(program: Command, io: CliIo): void {
  const plans = program
    .command('plans')
    .alias('plan')
    .description('plans: the versioned templates (product tiers) tenants are made from');
  addPageFlags(plans.command('list').alias('ls').description('list plans at their latest revision')).action(
    action(io, listPlans),
  );
  plans
    .command('get <name>')
    .description('show a plan (its latest revision, or --revision N)')
    .option('--revision <n>', 'an earlier revision', positiveInt('--revision'))
    .action(action(io, getPlan));
  plans
    .command('apply')
    .description('create or update plans from a YAML/JSON file (a changed plan becomes a new revision)')
    .requiredOption('-f, --file <file>', 'plan manifest(s), documents separated by --- (- for stdin)')
    .option('--dry-run', 'check on the server and show the diff; change nothing')
    .action(action(io, applyPlans));
  addPageFlags(
    plans.command('revisions <name>').description("a plan's revisions, newest first (REV, AGE, ACTOR)"),
  ).action(action(io, planRevisions));
  plans
    .command('diff <name>')
    .description('what changed between two revisions of a plan, as a unified diff of the YAML')
    .option('--from <n>', 'the older revision (default: the one before --to)', positiveInt('--from'))
    .option('--to <n>', 'the newer revision (default: the latest)', positiveInt('--to'))
    .action(action(io, diffPlan));
  plans
    .command('delete <name>')
    .alias('rm')
    .description('delete a plan and its revisions (refused while live tenants use it)')
    .option('--ignore-not-found', 'exit 0 when the plan does not exist')
    .action(action(io, deletePlan));
}

async function listPlans(ctx: CommandContext, flags: PageFlags): Promise<void> {
  const client = ctx.client();
  const page = await collectPages(flags.all, (cursor) =>
    client.listPlans({
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, PLAN_COLUMNS, ctx.render, 'No plans found.'));
  if (page.nextCursor !== null && ctx.format === 'table') ctx.err('(more plans: use --all or --limit)');
}

async function getPlan(ctx: CommandContext, name: string, flags: { revision?: number }): Promise<void> {
  const client = ctx.client();
  if (flags.revision === undefined) {
    const plan = await client.getPlan(name);
    ctx.out(render(plan, ctx.render, () => renderTable([plan], PLAN_COLUMNS, ctx.render.tty)));
    return;
  }
  const revision = await client.planRevision(name, flags.revision);
  ctx.out(render(revision, ctx.render, () => renderTable([revision], PLAN_REVISION_COLUMNS, ctx.render.tty)));
}

async function applyPlans(ctx: CommandContext, flags: { file: string; dryRun?: boolean }): Promise<void> {
  const source = flags.file === '-' ? 'standard input' : flags.file;
  const manifests = parseManifests(readInputFile(flags.file), source, { defaultKind: 'Plan', only: 'Plan' });
  await applyAll(ctx, manifests as PlanManifest[], [], flags.dryRun === true);
}

async function planRevisions(ctx: CommandContext, name: string, flags: PageFlags): Promise<void> {
  const client = ctx.client();
  const page = await collectPages(flags.all, (cursor) =>
    client.planRevisions(name, {
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, PLAN_REVISION_COLUMNS, ctx.render, 'No revisions found.'));
}

/**
 * Plans have no diff route: both revisions are read and compared here. Secret values read `"***"`
 * in both, so a changed secret does not show.
 */
async function diffPlan(ctx: CommandContext, name: string, flags: { from?: number; to?: number }) {
  const client = ctx.client();
  const to = flags.to ?? (await client.getPlan(name)).revision;
  const from = flags.from ?? to - 1;
  if (from < 1) throw new UsageError(`plan ${name} has no revision before ${to}: give --from`);
  const [older, newer] = [await client.planRevision(name, from), await client.planRevision(name, to)];
  if (ctx.format !== 'table') {
    ctx.out(render({ from: older, to: newer }, ctx.render, () => ''));
    return;
  }
  const text = renderSpecChange({
    from: revisionDocument(older),
    to: revisionDocument(newer),
    fromLabel: `plan/${name} revision ${from}`,
    toLabel: `plan/${name} revision ${to}`,
    color: ctx.render.tty,
  });
  ctx.out(text === '' ? `plan/${name}: revisions ${from} and ${to} are the same\n` : text);
}

/** What a revision consists of (its number, author and time left out: they always differ). */
function revisionDocument(revision: PlanRevision) {
  return {
    description: revision.description,
    spec: revision.spec,
    allowedOverrides: revision.allowedOverrides,
  };
}

async function deletePlan(
  ctx: CommandContext,
  name: string,
  flags: { ignoreNotFound?: boolean },
): Promise<void> {
  try {
    await ctx.client().deletePlan(name);
  } catch (error) {
    if (flags.ignoreNotFound && isNotFound(error)) return;
    throw error;
  }
  if (ctx.format === 'table') ctx.out(`plan/${name} deleted\n`);
  else ctx.out(render({ name, deleted: true }, ctx.render, () => ''));
}
