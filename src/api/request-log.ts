/**
 * Per-request log lines. Fastify writes "incoming request" and "request completed" at `info` for
 * every request: two formatted, redacted lines and two write syscalls per GET, which cost more than
 * serving the GET itself. Here they are `debug` lines; what an operator must see stays louder:
 * a request that errored is logged at `error`, a 5xx completion at `warn` (problem.ts logs the
 * failure itself at `error`, 4xx problems at `info`) — except a 503, a request to retry later whose
 * cause problem.ts logs (or, for a storage incident, the store, once per incident). Every line is
 * written through the request's child logger, so it carries `requestId` and passes the process
 * logger's secret redaction.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(request: FastifyRequest): void {
    if (this.isLogDisabled(request)) return;
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const responseTime = reply.elapsedTime;
    if (error) reply.log.error({ res: reply, err: error, responseTime }, 'request errored');
    else if (reply.statusCode >= 500 && reply.statusCode !== 503)
      reply.log.warn({ res: reply, responseTime }, 'request completed');
    else reply.log.debug({ res: reply, responseTime }, 'request completed');
  }
}
