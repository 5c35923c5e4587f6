/**
 * `lessor webhooks create|list|get|delete|rotate-secret|test|deliveries|retry` (admin): signed
 * webhooks to the user's own endpoints. A secret is printed once, by create and rotate-secret.
 */
import type { Command } from 'commander';
import type {
  CreateWebhookInput,
  WebhookDeliveryResource,
  WebhookResource,
  WebhookWithSecret,
} from '../api/types-webhooks.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/webhook.js';
import { parseChoice } from './args.js';
import { action, type CliIo, type CommandContext } from './context.js';
import { addPageFlags, parser } from './flags.js';
import { age, dash, render, renderList, renderTable, type Column } from './output.js';
import { collectPages } from './paging.js';

const WEBHOOK_COLUMNS: readonly Column<WebhookResource>[] = [
  { header: 'ID', value: (w) => w.id },
  { header: 'URL', value: (w) => w.url },
  { header: 'EVENTS', value: (w) => w.events.join(',') },
  {
    header: 'ENABLED',
    value: (w) => (w.enabled ? 'yes' : `no${w.disabledReason ? ` (${w.disabledReason})` : ''}`),
  },
  { header: 'AGE', value: (w) => age(w.createdAt) },
];

const DELIVERY_COLUMNS: readonly Column<WebhookDeliveryResource>[] = [
  { header: 'ID', value: (d) => d.id },
  { header: 'EVENT', value: (d) => d.eventType },
  { header: 'STATUS', value: (d) => d.status },
  { header: 'ATTEMPTS', value: (d) => String(d.attempts) },
  { header: 'LAST CODE', value: (d) => (d.lastStatusCode === null ? '-' : String(d.lastStatusCode)) },
  { header: 'LAST ERROR', value: (d) => dash(d.lastError) },
  { header: 'AGE', value: (d) => age(d.createdAt) },
];

const commaList = (text: string): string[] =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export function registerWebhookCommands(program: Command, io: CliIo): void {
  const webhooks = program.command('webhooks').alias('webhook').description('signed webhooks (admin)');
  webhooks
    .command('create')
    .description('subscribe an endpoint; prints the signing secret once')
    .requiredOption('--url <url>', 'https endpoint that receives the events')
    .requiredOption(
      '--events <list>',
      'comma-separated types or filters (tenant.ready,rollout.*,*)',
      commaList,
    )
    .option('--description <text>', 'free text')
    .option('--disabled', 'create it disabled')
    .action(action(io, createWebhook));
  addPageFlags(webhooks.command('list').alias('ls').description('every webhook')).action(
    action(io, listWebhooks),
  );
  webhooks.command('get <id>').description('one webhook').action(action(io, getWebhook));
  webhooks
    .command('delete <id>')
    .description('delete a webhook and its deliveries')
    .action(action(io, deleteWebhook));
  webhooks
    .command('rotate-secret <id>')
    .description('new signing secret (printed once); the old one signs too for 24 h')
    .action(action(io, rotateSecret));
  webhooks
    .command('test <id>')
    .description('send a signed ping')
    .option('--wait', 'wait until it is delivered or failed (non-zero exit unless delivered)')
    .action(action(io, testWebhook));
  const deliveries = webhooks
    .command('deliveries <id>')
    .description("a webhook's deliveries, newest first")
    .option(
      '--status <status>',
      `only deliveries in this status (${DELIVERY_STATUSES.join(', ')})`,
      parser(parseChoice(DELIVERY_STATUSES, 'status')),
    );
  addPageFlags(deliveries).action(action(io, listDeliveries));
  webhooks
    .command('retry <id> <deliveryId>')
    .description('send a delivered, failed or dead delivery again')
    .action(action(io, retryDelivery));
}

function printWithSecret(ctx: CommandContext, webhook: WebhookWithSecret, verb: string): void {
  if (ctx.format !== 'table') {
    ctx.out(render(webhook, ctx.render, () => ''));
    return;
  }
  ctx.out(
    `webhook/${webhook.id} ${verb}\nsecret: ${webhook.secret}\n(shown only now: store it where the receiver can read it)\n`,
  );
}

async function createWebhook(
  ctx: CommandContext,
  flags: { url: string; events: string[]; description?: string; disabled?: boolean },
): Promise<void> {
  const webhook = await ctx.client().createWebhook({
    url: flags.url,
    events: flags.events as CreateWebhookInput['events'],
    ...(flags.description !== undefined && { description: flags.description }),
    enabled: flags.disabled !== true,
  });
  printWithSecret(ctx, webhook, 'created');
}

async function listWebhooks(ctx: CommandContext, flags: { limit?: number; all?: boolean }): Promise<void> {
  const client = ctx.client();
  const page = await collectPages(flags.all, (cursor) =>
    client.listWebhooks({
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, WEBHOOK_COLUMNS, ctx.render, 'No webhooks found.'));
}

async function getWebhook(ctx: CommandContext, id: string): Promise<void> {
  const webhook = await ctx.client().getWebhook(id);
  ctx.out(render(webhook, ctx.render, () => renderTable([webhook], WEBHOOK_COLUMNS, ctx.render.tty)));
}

async function deleteWebhook(ctx: CommandContext, id: string): Promise<void> {
  await ctx.client().deleteWebhook(id);
  if (ctx.format === 'table') ctx.out(`webhook/${id} deleted\n`);
  else ctx.out(render({ id, deleted: true }, ctx.render, () => ''));
}

async function rotateSecret(ctx: CommandContext, id: string): Promise<void> {
  printWithSecret(ctx, await ctx.client().rotateWebhookSecret(id), 'has a new secret');
}

const POLL_MS = 250;

async function testWebhook(ctx: CommandContext, id: string, flags: { wait?: boolean }): Promise<number> {
  const client = ctx.client();
  let delivery = await client.testWebhook(id);
  while (flags.wait && delivery.status === 'pending' && delivery.attempts === 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    delivery = await client.getWebhookDelivery(id, delivery.id);
  }
  if (ctx.format === 'table') {
    const code = delivery.lastStatusCode === null ? '' : ` (${delivery.lastStatusCode})`;
    const error = delivery.lastError === null ? '' : `: ${delivery.lastError}`;
    ctx.out(`ping ${delivery.id} ${delivery.status}${code}${error}\n`);
  } else ctx.out(render(delivery, ctx.render, () => ''));
  return flags.wait && delivery.status !== 'delivered' ? 1 : 0;
}

async function listDeliveries(
  ctx: CommandContext,
  id: string,
  flags: { status?: DeliveryStatus; limit?: number; all?: boolean },
): Promise<void> {
  const client = ctx.client();
  const page = await collectPages(flags.all, (cursor) =>
    client.listWebhookDeliveries(id, {
      ...(flags.status && { status: flags.status }),
      ...(flags.limit !== undefined && { limit: flags.limit }),
      ...(cursor !== undefined && { cursor }),
    }),
  );
  ctx.out(renderList(page.items, DELIVERY_COLUMNS, ctx.render, 'No deliveries found.'));
}

async function retryDelivery(ctx: CommandContext, id: string, deliveryId: string): Promise<void> {
  const delivery = await ctx.client().retryWebhookDelivery(id, deliveryId);
  if (ctx.format === 'table')
    ctx.out(`delivery/${delivery.id} queued again (attempts so far: ${delivery.attempts})\n`);
  else ctx.out(render(delivery, ctx.render, () => ''));
}
