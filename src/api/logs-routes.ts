/**
 * `GET /v1/tenants/{idOrName}/logs`: the runtime's output, read through the tenant's provider —
 * `text/plain` lines, or Server-Sent Events (`event: log`, `data: {ts, stream, line}`) when the
 * client accepts `text/event-stream`. Operator or admin only: output may hold secrets. `follow`
 * keeps the stream open; it ends when the client goes, the server stops, or the tenant is deleted.
 * Followed streams share the caps of the event streams (per caller and per server).
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ComputeError } from '../domain/compute-error.js';
import type { LogLine } from '../compute/provider.js';
import { NotFoundError, NotSupportedError, UnavailableError } from '../domain/errors.js';
import type { Tenant } from '../domain/tenant.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { LogStream, type LogFormat } from './log-stream.js';
import { IdOrNameParams } from './schemas-query.js';
import { StreamSlots } from './stream-slots.js';
import { requireTenant } from './tenant-write.js';

/** How long the route waits for a first line before it sends the headers anyway (a quiet follow). */
const FIRST_LINE_WAIT_MS = 250;
/** How often a followed stream checks that its tenant still exists. */
const TENANT_CHECK_MS = 2_000;
export const MAX_TAIL = 100_000;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export const LogsQuery = z.strictObject({
  tail: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_TAIL)
    .optional()
    .describe(`At most this many of the newest lines (0-${MAX_TAIL}); all that are kept when left out.`),
  since: z
    .string()
    .regex(RFC3339, 'must be an RFC 3339 time, e.g. 2026-01-15T09:30:00Z')
    .refine((value) => !Number.isNaN(Date.parse(value)), 'must be a valid time')
    .optional()
    .describe('Only lines written at or after this time (RFC 3339).'),
  follow: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .default(false)
    .describe('Keep the stream open and send new lines as they are written.'),
});

export const LogLineSchema = z
  .object({
    ts: z.string().describe('When the line was written (RFC 3339).'),
    stream: z.enum(['stdout', 'stderr']),
    line: z.string(),
  })
  .meta({
    id: 'LogLine',
    description: 'The data of one `event: log` frame.',
    examples: [{ ts: '2026-01-15T09:30:00.123Z', stream: 'stdout', line: 'listening on :8080' }],
  });

function formatOf(request: FastifyRequest): LogFormat {
  const accept = request.headers.accept ?? '';
  return /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? 'sse' : 'text';
}

export function registerLogRoutes(app: ApiApp, ctx: ApiContext): void {
  const streams = new Set<LogStream>();
  const slots = new StreamSlots(ctx.options.sse);
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.close();
  });

  const schema = {
    operationId: 'tenantLogs',
    summary: "Read a tenant's runtime logs",
    description:
      "The runtime's output (stdout and stderr), oldest first, read from the engine through the " +
      "tenant's provider: `text/plain`, one line per line, or Server-Sent Events when the request " +
      'accepts `text/event-stream` (`event: log`, `data` a LogLine). `tail` and `since` bound what is ' +
      'sent; `follow=true` keeps the stream open for new lines until the client goes or the tenant ' +
      'is deleted (followed streams count against the event-stream caps: 429 per caller, 503 per ' +
      'server). Operator or admin only, as output may hold secrets. A provider without logs is 422 ' +
      '`NOT_SUPPORTED`; a tenant without a runtime is 404; an engine that cannot answer is 503.',
    tags: ['tenants'],
    params: IdOrNameParams,
    querystring: LogsQuery,
    produces: ['text/plain', 'text/event-stream'],
  };
  app.get(
    '/v1/tenants/:idOrName/logs',
    { schema, exposeHeadRoute: false, config: { access: 'write' } },
    async (request, reply) => {
      const tenant = await requireTenant(ctx, request.params.idOrName);
      if (tenant.status.phase === 'archived') throw new NotFoundError('runtime of tenant', tenant.name);
      if (!ctx.deps.providers.supports(tenant.spec.provider, 'logs')) {
        throw new NotSupportedError(tenant.spec.provider, 'logs');
      }
      const { tail, since, follow } = request.query;
      const release = follow ? slots.acquire(request) : () => {};
      try {
        const stop = new AbortController();
        const query = {
          follow,
          ...(tail !== undefined && { tail }),
          ...(since && { sinceMs: Date.parse(since) }),
        };
        const lines = ctx.deps.logs.logs(tenant, query, stop.signal)[Symbol.asyncIterator]();
        const { head } = await firstPull(lines, stop, tenant);
        const stream = new LogStream({
          response: reply.raw,
          requestId: String(request.id),
          format: formatOf(request),
          lines,
          head,
          stop,
          heartbeatMs: ctx.options.sse.heartbeatMs,
          log: request.log,
        });
        reply.hijack();
        streams.add(stream);
        const watch = follow ? watchTenant(ctx, tenant.id, stream) : undefined;
        try {
          await stream.run();
        } finally {
          clearInterval(watch);
          streams.delete(stream);
        }
      } finally {
        release();
      }
    },
  );
}

/**
 * Starts the first pull and waits for it briefly: a failure that early (no runtime, engine down)
 * becomes a problem answer; a quiet follow gets its headers without waiting for a line.
 */
async function firstPull(
  lines: AsyncIterator<LogLine>,
  stop: AbortController,
  tenant: Tenant,
): Promise<{ head: Promise<IteratorResult<LogLine>> }> {
  const head = lines.next();
  // Handled by the log stream, which awaits it later; never an unhandled rejection meanwhile.
  head.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<'quiet'>(
    (resolve) => (timer = setTimeout(() => resolve('quiet'), FIRST_LINE_WAIT_MS)),
  );
  try {
    await Promise.race([head, quiet]);
    return { head };
  } catch (error) {
    stop.abort();
    throw asProblem(error, tenant);
  } finally {
    clearTimeout(timer);
  }
}

function asProblem(error: unknown, tenant: Tenant): unknown {
  if (!(error instanceof ComputeError)) return error;
  if (error.code === 'NOT_FOUND') return new NotFoundError('runtime of tenant', tenant.name);
  return new UnavailableError(
    `the engine could not serve the logs of tenant '${tenant.name}' (${error.code})`,
    {
      cause: error,
    },
  );
}

/** Ends a followed stream once its tenant is archived or purged. */
function watchTenant(ctx: ApiContext, tenantId: string, stream: LogStream): NodeJS.Timeout {
  const timer = setInterval(() => {
    ctx.deps.store.tenants.get(tenantId).then(
      (tenant) => {
        if (!tenant || tenant.status.phase === 'archived') stream.close();
      },
      () => undefined,
    );
  }, TENANT_CHECK_MS);
  timer.unref();
  return timer;
}
