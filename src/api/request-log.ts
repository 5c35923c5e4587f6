/**
 * Per-request log lines. Fastify writes "incoming request" and "request completed" at `info` for
 * every request: two formatted, redacted lines and two write syscalls per GET, which cost more than
 * serving the GET itself. Here they are `debug` lines; what an operator must see stays louder:
 * a request that errored is logged at `error`, a 5xx completion at `warn` (problem.ts logs the
 * failure itself at `error`, 4xx problems at `info`) — except a 503, a request to retry later whose
 * cause problem.ts logs (or, for a storage incident, the store, once per incident). Every line is
 * written through the request's child logger, so it carries `requestId` and passes the process
 * logger's secret redaction; that child is only built when a line is written (`DeferredChildLogger`).
 */
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

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

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** What pino's log methods take: an object or a message first, then format arguments. */
type LogArgs = [unknown, ...unknown[]];

/** A parent logger that can say whether a level is written (pino's `isLevelEnabled`). */
interface LevelAwareLogger extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean;
}

function isLevelAware(logger: FastifyBaseLogger): logger is LevelAwareLogger {
  return typeof (logger as Partial<LevelAwareLogger>).isLevelEnabled === 'function';
}

/**
 * A request's logger that becomes a real child of the process logger (bound to `requestId`) only
 * when it is first asked to write a line at a level the parent writes. Building a pino child
 * serialises its bindings, which costs a few per cent of a GET's CPU, and a request served without
 * a problem writes no line at the default level (see `RequestLogController`); a skipped line is
 * one its child would not have written either, since a child takes the parent's level.
 */
export class DeferredChildLogger implements FastifyBaseLogger {
  private created: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: LevelAwareLogger,
    private readonly bindings: Bindings,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.created ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.created?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }

  error(...args: LogArgs): void {
    this.write('error', args);
  }

  warn(...args: LogArgs): void {
    this.write('warn', args);
  }

  info(...args: LogArgs): void {
    this.write('info', args);
  }

  debug(...args: LogArgs): void {
    this.write('debug', args);
  }

  trace(...args: LogArgs): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }

  private write(level: LogLevel, args: LogArgs): void {
    if (this.created === undefined && !this.parent.isLevelEnabled(level)) return;
    const logger = this.logger;
    Reflect.apply(logger[level], logger, args);
  }
}

/**
 * Fastify's `childLoggerFactory`: a `DeferredChildLogger` for a pino parent; a route's own log
 * options (level, serializers; none are used here) or a parent that cannot tell its levels get an
 * ordinary child at once.
 */
export function deferredChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (!isLevelAware(logger) || Object.keys(options).length > 0) return logger.child(bindings, options);
  return new DeferredChildLogger(logger, bindings);
}
