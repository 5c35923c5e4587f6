/**
 * The OpenTelemetry context manager Lessor registers when tracing is on: the active context is the
 * one of the innermost `context.with` still running on the stack, and nothing else. It keeps no
 * async context — no AsyncLocalStorage, so no promise hooks, which on Node 20 cost every promise of
 * the process (docs/operations.md, "Overhead") — so a context is active only until the function run
 * in it first awaits. Work that continues a trace after an await is handed the context explicitly
 * (src/domain/tracing.ts); between two turns of the event loop the active context is the root.
 */
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  /** A function that runs `target` with `context` active (synchronously, as `with` does). */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const call = target as (...args: unknown[]) => unknown;
    const bound = (self: unknown, args: unknown[]) => this.with(context, () => call.apply(self, args));
    return function (this: unknown, ...args: unknown[]) {
      return bound(this, args);
    } as T;
  }

  enable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
