/**
 * `lessor events [--follow] [--since SEQ] [--tenant NAME] [--limit N]`: the server's event stream
 * (SSE, resumable by sequence number). Without --follow it prints what is there and stops once the
 * stream has been quiet for a moment; with --follow it runs until interrupted (or --limit events).
 * With --tenant the tenant's history is printed first, then (with --follow) its new events.
 */
import type { Command } from 'commander';
import type { TenantEvent } from '../api/types.js';
import { parseNonNegativeInt } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { parser, positiveInt } from './flags.js';
import { renderYaml, rowStream } from './output.js';
import { collectPages } from './paging.js';
import { STREAM_EVENT_COLUMNS, STREAM_EVENT_WIDTHS } from './views.js';

interface EventFlags {
  readonly follow?: boolean;
  readonly since?: number;
  readonly tenant?: string;
  readonly limit?: number;
}

/** Without --follow: stop when no event came for this long (the first frame may take longer). */
const QUIET_MS = 500;
const FIRST_QUIET_MS = 1500;

export function registerEventsCommand(program: Command, io: CliIo): void {
  program
    .command('events')
    .description('tenant, run and execution events from the server (SSE)')
    .option('-f, --follow', 'keep streaming new events until interrupted')
    .option(
      '--since <seq>',
      'start after this event sequence number (default: all without --follow, new with it)',
      parser((v: string) => parseNonNegativeInt(v, '--since')),
    )
    .option('--tenant <name>', "only this tenant's events (its history first)")
    .option('--limit <n>', 'stop after this many events', positiveInt('--limit'))
    .action(action(io, streamEvents));
}

/** Prints events one by one: a table row under one header, NDJSON, or YAML documents. */
function eventPrinter(ctx: CommandContext): (event: TenantEvent) => void {
  let first = true;
  const row = rowStream(STREAM_EVENT_COLUMNS, STREAM_EVENT_WIDTHS);
  return (event) => {
    if (ctx.format === 'json') ctx.out(`${JSON.stringify(event)}\n`);
    else if (ctx.format === 'yaml') ctx.out(`${first ? '' : '---\n'}${renderYaml(event)}`);
    else ctx.out(row(event));
    first = false;
  };
}

async function streamEvents(ctx: CommandContext, flags: EventFlags): Promise<void> {
  const print = eventPrinter(ctx);
  let budget = flags.limit ?? Infinity;
  const emit = (event: TenantEvent): boolean => {
    print(event);
    budget -= 1;
    return budget > 0;
  };
  let since = flags.since;
  let tenantId: string | undefined;
  if (flags.tenant !== undefined) {
    const history = await tenantHistory(ctx, flags.tenant, since ?? 0);
    tenantId = history.tenantId;
    for (const event of history.events) if (!emit(event)) return;
    since = history.lastSeq;
    if (!flags.follow) return;
  }
  if (flags.follow) await ctx.client().listProviders(); // fail fast (exit 6 or 9) instead of reconnecting forever
  await follow(ctx, { since: since ?? (flags.follow ? undefined : 0), tenantId, quiet: !flags.follow }, emit);
}

async function tenantHistory(ctx: CommandContext, name: string, since: number) {
  const client = ctx.client();
  const tenant = await client.getTenant(name);
  const page = await collectPages(true, (cursor) =>
    client.tenantEvents(tenant.id, { cursor: cursor ?? String(since), limit: 500 }),
  );
  const last = page.items[page.items.length - 1];
  return { tenantId: tenant.id, events: page.items, lastSeq: last?.seq ?? since };
}

interface FollowOptions {
  readonly since: number | undefined;
  readonly tenantId: string | undefined;
  /** Stop once the stream has been quiet (the non-follow mode). */
  readonly quiet: boolean;
}

async function follow(
  ctx: CommandContext,
  options: FollowOptions,
  emit: (event: TenantEvent) => boolean,
): Promise<void> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    if (options.quiet) timer = setTimeout(() => stop.abort(), ms);
  };
  arm(FIRST_QUIET_MS);
  try {
    const stream = ctx.client().streamEvents({
      ...(options.since !== undefined && { since: options.since }),
      ...(options.tenantId !== undefined && { tenantId: options.tenantId }),
      signal: stop.signal,
      reconnect: !options.quiet,
    });
    for await (const event of stream) {
      if (!emit(event.data)) return;
      arm(QUIET_MS);
    }
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}
