/**
 * The logging surface every module depends on: pino-compatible (object first, message second), so
 * the composition root passes a pino logger and tests may pass anything of this shape.
 *
 * pino writes a key once per binding and once more per logged field, so a key bound twice (by a
 * parent and by a child) or logged under a bound name makes a line with a duplicate key. Whoever
 * creates a module's child logger binds the module's identity (`component`, `provider`); the
 * module binds only keys of its own, never one its parent already bound — nor `service`, the root's.
 */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (tests and benchmarks that do not care). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
