/**
 * `GET /v1/events`: Server-Sent Events of tenant, run and execution events (docs/api.md, "Events").
 * Resumable: `Last-Event-ID` (what EventSource sends on reconnect) wins over `?since=`; with neither, the
 * stream starts at the current end of the log. Every stream is a subscription to the process's one event feed
 * (`deps.feed`), which reads the log once per wake-up for all of them. Open streams are capped in total and
 * per caller (stream-slots.ts).
 */
import { httpError } from './problem.js';
import type { ApiApp, ApiContext } from './api-deps.js';
import { StreamHeaders, StreamQuery } from './schemas-query.js';
import { SseSession } from './sse-session.js';
import { StreamSlots } from './stream-slots.js';

function lastEventId(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header === 'string' && /^\d{1,15}$/.test(header.trim())) return Number(header.trim());
  throw httpError('VALIDATION_FAILED', 'Last-Event-ID must be an event sequence number', {
    problems: [{ path: 'headers.last-event-id', message: 'must be an event sequence number' }],
  });
}

export function registerEventRoutes(app: ApiApp, ctx: ApiContext): void {
  const sessions = new Set<SseSession>();
  const slots = new StreamSlots(ctx.options.sse);
  app.addHook('preClose', async () => {
    for (const session of sessions) session.close();
  });

  app.get(
    '/v1/events',
    {
      // A HEAD request would open a stream nobody reads.
      exposeHeadRoute: false,
      schema: {
        operationId: 'streamEvents',
        summary: 'Stream events (Server-Sent Events)',
        description:
          'Every tenant event as it is written, in sequence order, optionally of one tenant. Frames: ' +
          '`id: <seq>`, `event: <type>`, `data: <TenantEvent JSON>`; heartbeats are comments. Resume ' +
          'after a disconnect with `Last-Event-ID` (what EventSource sends) or `?since=`: nothing is ' +
          'lost; with neither the stream starts at the current end. A client that falls too far ' +
          'behind is disconnected and resumes the same way. Open streams are limited per caller ' +
          '(429) and per server (503), both with `Retry-After`.',
        tags: ['events'],
        querystring: StreamQuery,
        headers: StreamHeaders,
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const { since, tenantId } = request.query;
      const afterSeq = lastEventId(request.headers['last-event-id']) ?? since;
      const release = slots.acquire(request);
      try {
        const subscription = await ctx.deps.feed.subscribe({ afterSeq, tenantId });
        const session = new SseSession({
          response: reply.raw,
          requestId: String(request.id),
          subscription,
          heartbeatMs: ctx.options.sse.heartbeatMs,
          log: request.log,
        });
        reply.hijack();
        sessions.add(session);
        try {
          await session.run();
        } finally {
          sessions.delete(session);
        }
      } finally {
        release();
      }
    },
  );
}
