/**
 * Spans across a create → ready: API request → reconcile → workflow run → step → provider call.
 * Built on the OpenTelemetry API, which does nothing until the composition root registers a tracer
 * provider (`telemetry.otlp.endpoint`, src/main/telemetry/tracing.ts): with tracing off every call
 * here is a no-op on a non-recording span. A workflow run carries the W3C `traceparent` of the
 * reconcile that started it as its `traceparent` tag, so every execution of the run — a resume after
 * a crash, on another replica — continues the same trace.
 *
 * The trace context is carried explicitly, not through async context (docs/operations.md,
 * "Overhead"): `inSpan` hands its span's context to `fn`, which passes it on to the work it starts
 * (a reconcile to the run it starts, a run to its steps, a step to its provider call). The active
 * context (`context.active()`) is only the synchronous one: the process registers no
 * AsyncLocalStorage, so a span is active while `fn` runs up to its first `await` and no longer.
 */
import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span };
/** The trace context handed from one piece of work to the next (an OpenTelemetry `Context`). */
export type TraceContext = Context;

/** The run tag holding the W3C traceparent of the context that started the run. */
export const TRACEPARENT_TAG = 'traceparent';

const tracer = () => trace.getTracer('lessor');

/**
 * Whether a tracer provider is registered. While none is, every span is a non-recording no-op, so a
 * hot path may skip building one (names, attributes, a parent context) altogether.
 */
export function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer('lessor') !== undefined;
}

export interface SpanOptions {
  readonly attributes?: Attributes;
  /** Default: the active (synchronous) context. */
  readonly parent?: Context | undefined;
  readonly kind?: SpanKind;
}

/**
 * Runs `fn` inside a new span; a throw marks the span an error. `fn` gets the span's context to
 * hand to the work it starts (children's `parent`); it is also the active context while `fn` runs
 * synchronously.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span, context: Context) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, spanOptions(options), parent);
  // Not recorded (tracing off, or an unsampled trace) under the active context: the span adds
  // nothing its children would not get from that context, so no context switch is paid for it.
  if (!span.isRecording() && options.parent === undefined) return fn(span, parent);
  const spanContext = trace.setSpan(parent, span);
  try {
    return await context.with(spanContext, () => fn(span, spanContext));
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span the caller ends (a request's span ends at its response). */
export function startSpan(name: string, options: SpanOptions): { span: Span; context: Context } {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, spanOptions(options), parent);
  return { span, context: trace.setSpan(parent, span) };
}

function spanOptions(options: SpanOptions): { kind: SpanKind; attributes?: Attributes } {
  const kind = options.kind ?? SpanKind.INTERNAL;
  return options.attributes ? { kind, attributes: options.attributes } : { kind };
}

/**
 * Runs `fn` with `ctx` active while it runs synchronously: for a call whose callee reads the
 * active context on entry (a span started by a decorator, `activeSpanContext`). No-op without `ctx`.
 */
export function withContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx === undefined ? fn() : context.with(ctx, fn);
}

/** The active context when a span is in it (else undefined: nothing to carry). */
export function activeSpanContext(): Context | undefined {
  const active = context.active();
  return trace.getSpan(active) ? active : undefined;
}

/** The context a W3C `traceparent` (and `tracestate`) continue; the root context without one. */
export function contextFromHeaders(carrier: Readonly<Record<string, unknown>>): Context {
  return propagation.extract(ROOT_CONTEXT, carrier, {
    get: (c, key) => {
      const value = c[key];
      return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
    },
    keys: (c) => Object.keys(c),
  });
}

/** The W3C traceparent of `ctx`'s span (default: the active one); undefined without a span. */
export function currentTraceparent(ctx: Context | undefined = context.active()): string | undefined {
  if (ctx === undefined || !trace.getSpan(ctx)) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** `tags` plus the traceparent of `ctx` (unchanged when it has none, or `tags` holds one). */
export function withTraceparent(
  tags: Readonly<Record<string, string>>,
  ctx: Context | undefined,
): Readonly<Record<string, string>> {
  if (tags[TRACEPARENT_TAG] !== undefined) return tags;
  const traceparent = currentTraceparent(ctx);
  return traceparent === undefined ? tags : { ...tags, [TRACEPARENT_TAG]: traceparent };
}

/**
 * Trace and span ids of `ctx`'s span (default: the active one), for a log line or a child logger's
 * bindings; empty without a span.
 */
export function logTraceFields(ctx: Context | undefined = context.active()): {
  traceId?: string;
  spanId?: string;
} {
  const span = ctx && trace.getSpan(ctx);
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Records an event on `ctx`'s span (default: the active one); a no-op when none records. */
export function addSpanEvent(name: string, attributes: Attributes, ctx: Context = context.active()): void {
  const span = trace.getSpan(ctx);
  if (span?.isRecording()) span.addEvent(name, attributes);
}
