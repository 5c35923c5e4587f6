/**
 * A minimal OTLP/HTTP trace receiver for suites whose Lessor runs in another process (the SDK's
 * in-memory exporter cannot cross processes): `POST /v1/traces` with the JSON encoding the
 * `@opentelemetry/exporter-trace-otlp-http` exporter sends (gzip accepted), answered `{}`; every
 * span kept, in arrival order, with its attributes flattened. Anything else is answered 404 and
 * counted as a rejected request, so a suite can assert that the exporter and the receiver agree.
 *
 *   const receiver = await startOtlpReceiver();
 *   // LESSOR_TELEMETRY__OTLP__ENDPOINT = receiver.url
 *   const spans = receiver.spans().filter((s) => s.traceId === id);
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP span kind number (1 internal, 2 server, 3 client). */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  /** The exporting process's resource attributes (`service.name`, …). */
  readonly resource: Readonly<Record<string, string | number | boolean>>;
  /** Status code: 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

export interface OtlpReceiver {
  /** The traces endpoint, for `telemetry.otlp.endpoint`. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  spans(): readonly ReceivedSpan[];
  /** Requests that were not a well-formed OTLP/HTTP JSON trace export. */
  rejected(): readonly string[];
  close(): Promise<void>;
}

interface OtlpAnyValue {
  readonly stringValue?: string;
  readonly intValue?: number | string;
  readonly doubleValue?: number;
  readonly boolValue?: boolean;
}
interface OtlpKeyValue {
  readonly key: string;
  readonly value?: OtlpAnyValue;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind?: number;
  readonly attributes?: readonly OtlpKeyValue[];
  readonly status?: { readonly code?: number };
}
interface OtlpScopeSpans {
  readonly spans?: readonly OtlpSpan[];
}
interface OtlpResourceSpans {
  readonly resource?: { readonly attributes?: readonly OtlpKeyValue[] };
  readonly scopeSpans?: readonly OtlpScopeSpans[];
}
interface OtlpExport {
  readonly resourceSpans?: readonly OtlpResourceSpans[];
}

const gunzipAsync = promisify(gunzip);

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = createServer((request, response) => {
    void accept(request).then(
      (spans) => {
        received.push(...spans);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      (error: unknown) => {
        rejected.push(`${String(request.method)} ${String(request.url)}: ${(error as Error).message}`);
        response.writeHead(error instanceof NotFound ? 404 : 400).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans: () => [...received],
    rejected: () => [...rejected],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

class NotFound extends Error {}

async function accept(request: IncomingMessage): Promise<ReceivedSpan[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (request.method !== 'POST' || request.url !== '/v1/traces') throw new NotFound('not the traces path');
  if (!String(request.headers['content-type']).startsWith('application/json'))
    throw new Error(`unsupported content-type ${String(request.headers['content-type'])}`);
  let body = Buffer.concat(chunks);
  if (request.headers['content-encoding'] === 'gzip') body = await gunzipAsync(body);
  return spansOf(JSON.parse(body.toString('utf8')) as OtlpExport);
}

function spansOf(payload: OtlpExport): ReceivedSpan[] {
  if (!Array.isArray(payload.resourceSpans)) throw new Error('no resourceSpans');
  return payload.resourceSpans.flatMap((resourceSpans: OtlpResourceSpans) => {
    const resource = flatten(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope: OtlpScopeSpans) =>
      (scope.spans ?? []).map((span: OtlpSpan): ReceivedSpan => ({
        traceId: hexId(span.traceId, 32),
        spanId: hexId(span.spanId, 16),
        parentSpanId: span.parentSpanId ? hexId(span.parentSpanId, 16) : '',
        name: span.name,
        kind: span.kind ?? 0,
        attributes: flatten(span.attributes),
        resource,
        status: span.status?.code ?? 0,
      })),
    );
  });
}

/** The JSON encoding carries ids as lowercase hex (the exporter's `useHex`); anything else is an error. */
function hexId(value: unknown, length: number): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${length}}$`).test(value))
    throw new Error(`malformed id ${JSON.stringify(value)}`);
  return value;
}

function flatten(attributes: readonly OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  const flat: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    if (value?.stringValue !== undefined) flat[key] = value.stringValue;
    else if (value?.intValue !== undefined) flat[key] = Number(value.intValue);
    else if (value?.doubleValue !== undefined) flat[key] = value.doubleValue;
    else if (value?.boolValue !== undefined) flat[key] = value.boolValue;
  }
  return flat;
}
