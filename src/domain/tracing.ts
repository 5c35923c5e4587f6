/**
 * Spans across a create → ready: API request → reconcile → workflow run → step → provider call.
 * Built on the OpenTelemetry API, which does nothing until the composition root registers a tracer
 * provider (`telemetry.otlp.endpoint`, src/main/telemetry/tracing.ts): with tracing off every call
 * here is a no-op on a non-recording span. A workflow run carries the W3C `traceparent` of the
 * reconcile that started it as its `traceparent` tag, so every execution of the run — a resume after
 * a crash, on another replica — continues the same trace.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export { ROOT_CONTEXT, SpanKind, SpanStatusCode, type Context, type Span };

/** The run tag holding the W3C traceparent of the context that started the run. */
export const TRACEPARENT_TAG = 'traceparent';

const tracer = () => trace.getTracer('lessor');

export interface SpanOptions {
  readonly attributes?: Attributes;
  /** Default: the active context. */
  readonly parent?: Context;
  readonly kind?: SpanKind;
}

/** Runs `fn` inside a new span (the active one while it runs); a throw marks the span an error. */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, spanOptions(options), parent);
  // Not recorded (tracing off, or an unsampled trace) under the active context: the span adds
  // nothing its children would not get from that context, so no context switch is paid for it.
  if (!span.isRecording() && options.parent === undefined) return fn(span);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
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

/** Runs `fn` with `ctx` active (for callbacks that continue a request or a run). */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
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

/** The active span's W3C traceparent, when tracing is on and a span is active. */
export function currentTraceparent(): string | undefined {
  if (!activeSpanContext()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** `tags` plus the active traceparent (unchanged when there is none). */
export function withTraceparent(tags: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const traceparent = currentTraceparent();
  return traceparent === undefined || tags[TRACEPARENT_TAG] !== undefined
    ? tags
    : { ...tags, [TRACEPARENT_TAG]: traceparent };
}

/** Trace and span ids of the active span, for log lines; empty when none records. */
export function logTraceFields(): { traceId?: string; spanId?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Records an event on the active span (a no-op when none records). */
export function addSpanEvent(name: string, attributes: Attributes): void {
  const span = trace.getSpan(context.active());
  if (span?.isRecording()) span.addEvent(name, attributes);
}
