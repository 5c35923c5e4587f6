/**
 * `GET /v1/events`: Server-Sent Events of tenant, run and execution events (SPEC §5.4). Resumable:
 * `Last-Event-ID` (what EventSource sends on reconnect) wins over `?since=`; with neither, the
 * stream starts at the current end of the log. Each open stream polls the store every ~250 ms and
 * is woken at once by `notifyEvents()`, which the composition root calls after events are written.
 */
import { httpError } from './problem.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { SSE_TUNING } from './api-deps.js';
import { StreamHeaders, StreamQuery } from './schemas-query.js';
import { SseSession } from './sse-session.js';

/** Every open stream of every server in this process, for `notifyEvents`. */
const openStreams = new Set<SseSession>();

/** Wakes every open event stream now (new events were committed). Cheap; safe to call often. */
export function notifyEvents(): void {
  for (const session of openStreams) session.wake();
}

function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string' && /^\d{1,15}$/.test(header.trim())) return Number(header.trim());
  throw httpError('VALIDATION_FAILED', 'Last-Event-ID must be an event sequence number', {
    problems: [{ path: 'headers.last-event-id', message: 'must be an event sequence number' }],
  });
}

export function registerEventRoutes(app: ApiApp, ctx: ApiContext): void {
  const mine = new Set<SseSession>();
  app.addHook('preClose', async () => {
    for (const session of mine) session.close();
  });

  app.get(
    '/v1/events',
    {
      // A HEAD request would open a stream nobody reads.
      exposeHeadRoute: false,
      schema: {
        operationId: 'streamEvents',
        summary: 'Server-Sent Events stream of tenant, run and execution events',
        description:
          'Frames: `id: <seq>`, `event: <type>`, `data: <TenantEvent JSON>`; heartbeats are comments.',
        tags: ['events'],
        querystring: StreamQuery,
        headers: StreamHeaders,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const { since, tenantId } = request.query;
      const afterSeq =
        lastEventId(request.headers['last-event-id']) ?? since ?? (await ctx.deps.store.events.latestSeq());
      const session = new SseSession({
        response: reply.raw,
        requestId: String(request.id),
        afterSeq,
        fetch: (after, limit) => ctx.deps.store.events.listSince(after, limit),
        ...(tenantId !== undefined && { filter: (event) => event.tenantId === tenantId }),
        pollMs: ctx.options.ssePollMs ?? SSE_TUNING.ssePollMs,
        heartbeatMs: ctx.options.sseHeartbeatMs ?? SSE_TUNING.sseHeartbeatMs,
        log: request.log,
      });
      reply.hijack();
      openStreams.add(session);
      mine.add(session);
      try {
        await session.run();
      } finally {
        openStreams.delete(session);
        mine.delete(session);
      }
    },
  );
}
