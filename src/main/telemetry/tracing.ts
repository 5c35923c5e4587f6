/**
 * Turns tracing on (`telemetry.otlp.endpoint`: spans are batched to that OTLP/HTTP endpoint) by
 * registering a tracer provider, the synchronous context manager (no AsyncLocalStorage: the trace
 * context is carried explicitly, src/domain/tracing.ts) and the W3C propagator process-wide. Off by default: nothing is registered and every span is a no-op. Tests pass their
 * own exporter (the SDK's in-memory one), exported span by span. `stop` flushes and unregisters.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { SynchronousContextManager } from './synchronous-context-manager.js';

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. `http://collector:4318/v1/traces`. */
  readonly endpoint?: string | undefined;
  /** Exports each span as it ends (tests), or in batches like the OTLP exporter with `batch`. */
  readonly exporter?: SpanExporter | undefined;
  /** Batch `exporter`'s spans (the bench: the production processor without a network exporter). */
  readonly batch?: boolean | undefined;
  readonly serviceVersion?: string;
}

export interface Tracing {
  stop(): Promise<void>;
}

/** Undefined when tracing stays off. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const processors: SpanProcessor[] = [];
  if (options.endpoint !== undefined)
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint })));
  if (options.exporter !== undefined)
    processors.push(
      options.batch ? new BatchSpanProcessor(options.exporter) : new SimpleSpanProcessor(options.exporter),
    );
  if (processors.length === 0) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: 'lessor',
      ...(options.serviceVersion !== undefined && { [ATTR_SERVICE_VERSION]: options.serviceVersion }),
    }),
    spanProcessors: processors,
  });
  provider.register({ contextManager: new SynchronousContextManager() });
  return {
    async stop() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
