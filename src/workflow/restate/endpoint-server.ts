/**
 * The HTTP/2 (cleartext, prior knowledge) server Restate calls to run Lessor's service, with a
 * lifecycle the engine controls: `listen`, `stopAccepting` (no new connections, GOAWAY on open ones
 * so no new invocation starts here while in-flight streams go on), `destroy` (cut every stream:
 * Restate sees the attempts fail and retries them — on a new endpoint at the same URL, or later).
 */
import './promise-polyfill.js';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import {
  createEndpointHandler,
  type LoggerTransport,
  type WorkflowDefinition as RestateService,
} from '@restatedev/restate-sdk';
import type { Logger } from '../../domain/logger.js';

export interface ListenOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly services: readonly RestateService<string, unknown>[];
  /** Restate request-identity keys; empty accepts unsigned requests. */
  readonly identityKeys: readonly string[];
  readonly log: Logger;
}

export class EndpointServer {
  private server: http2.Http2Server | null = null;
  private closed: Promise<void> = Promise.resolve();
  private accepting = false;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  /** Starts serving `services`; resolves with the bound port. */
  async listen(options: ListenOptions): Promise<number> {
    const { host, port, services, identityKeys, log } = options;
    const handler = createEndpointHandler({
      services: [...services],
      logger: sdkLogger(log),
      ...(identityKeys.length > 0 && { identityKeys: [...identityKeys] }),
    });
    const server = http2.createServer(handler);
    server.on('session', (session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error: Error) => log.error({ err: error }, 'restate endpoint server error'));
    this.closed = new Promise((resolve) => server.once('close', () => resolve()));
    this.server = server;
    this.accepting = true;
    return (server.address() as AddressInfo).port;
  }

  /** No new connections, and no new streams on the open ones; running streams continue. */
  stopAccepting(): void {
    if (this.accepting) this.server?.close();
    this.accepting = false;
    for (const session of this.sessions) if (!session.closed) session.close();
  }

  /** Cuts every open stream and resolves once the port is free. Idempotent. */
  async destroy(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.stopAccepting();
    this.server = null;
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
    await this.closed;
  }
}

/** The SDK's log lines into Lessor's logger; its per-invocation INFO chatter goes to debug. */
function sdkLogger(log: Logger): LoggerTransport {
  const sdkLog = log.child({ origin: 'restate-sdk' });
  return (meta, message?: unknown, ...rest: unknown[]) => {
    const context = meta.context;
    const fields: Record<string, unknown> = {
      ...(context && { invocationId: context.invocationId, target: context.invocationTarget }),
      ...(meta.replaying && { replaying: true }),
    };
    const error = [message, ...rest].find((part) => part instanceof Error);
    if (error) fields.err = error;
    const text = [message, ...rest]
      .filter((part) => !(part instanceof Error))
      .map(String)
      .join(' ')
      .trim();
    const level: string = meta.level;
    if (level === 'error') sdkLog.error(fields, text);
    else if (level === 'warn') sdkLog.warn(fields, text);
    else sdkLog.debug(fields, text);
  };
}
