/**
 * The process logger: pino, JSON lines by default, with secrets redacted before anything is written.
 * Modules depend on domain/logger's `Logger` shape; only the composition root creates a pino logger.
 */
import { pino, type DestinationStream, type LogFn, type Logger as PinoLogger } from 'pino';

import { StoreUnavailableError } from '../domain/errors.js';
import { logTraceFields } from '../domain/tracing.js';
import type { LogConfig } from './config/config-schema.js';

/**
 * Where secrets can appear in a log record: tenant compute config (`secretEnv`, docs/api.md) at the
 * depths it is logged at, request authorization headers, and anything called token or password.
 */
export const REDACTED_PATHS: readonly string[] = [
  'secretEnv',
  '*.secretEnv',
  '*.*.secretEnv',
  '*.*.*.secretEnv',
  'config.secretEnv',
  'spec.config.secretEnv',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
];

export const REDACTED = '***';

const DEBUG_LEVEL = 20;

/**
 * A line about a StoreUnavailableError is written at `debug`, whatever level it was logged at: the
 * store logs each storage incident itself (once when it starts, a count now and then, once when it
 * ends), so a request refused with 503 or a worker backing off while it lasts adds no warn or error
 * line — and no stack trace — per failed call.
 */
function quietStoreUnavailable(
  this: PinoLogger,
  args: Parameters<LogFn>,
  method: LogFn,
  level: number,
): void {
  const first: unknown = args[0];
  const err = typeof first === 'object' && first !== null ? (first as { err?: unknown }).err : undefined;
  if (level > DEBUG_LEVEL && err instanceof StoreUnavailableError) {
    this.debug(...args);
    return;
  }
  method.apply(this, args);
}

/**
 * `format: pretty` goes through the pino-pretty transport (a dev dependency: for local use only).
 * With an explicit `destination` (tests, or a file) the output is always JSON to that stream.
 */
export function createLogger(config: LogConfig, destination?: DestinationStream): PinoLogger {
  const options = {
    level: config.level,
    base: { service: 'lessor' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    hooks: { logMethod: quietStoreUnavailable },
    // With tracing on, a line written while a span is active (synchronously: no async context is
    // kept, see src/domain/tracing.ts) carries its traceId and spanId; the request's and the run's
    // loggers carry them as bindings (docs/operations.md, "Traces").
    mixin: () => logTraceFields(),
  };
  if (destination !== undefined) return pino(options, destination);
  if (config.format === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}
