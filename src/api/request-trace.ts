/**
 * The trace context of each request's server span (tracing on only), for the work a handler starts:
 * the reconcile it wakes, the webhook events and workflow runs its writes queue. Carried explicitly
 * from the request object because no async context is kept (src/domain/tracing.ts).
 */
import type { TraceContext } from '../domain/tracing.js';

const contexts = new WeakMap<object, TraceContext>();

export function setRequestTraceContext(request: object, trace: TraceContext): void {
  contexts.set(request, trace);
}

/** Undefined while tracing is off, or for an object that is not a traced request. */
export function requestTraceContext(request: object): TraceContext | undefined {
  return contexts.get(request);
}
