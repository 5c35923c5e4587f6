/**
 * The subset of the Docker Engine API that Lessor needs, over a unix socket or TCP, with Node's
 * built-in `http` (no SDK). Works against Docker and Podman's Docker-compatible service.
 *
 * Contract:
 * - Every call takes an AbortSignal; an abort rejects with Node's `AbortError`.
 * - A non-2xx answer rejects with `DockerApiError` carrying the operation, method, path, status and
 *   the engine's JSON body — never the request body (it holds env values).
 * - "Already in that state" answers are success: 304 on start/stop.
 * - Socket-level failures reject with Node's errno errors (`ECONNREFUSED`, `ENOENT`, …) untouched.
 */
import http from 'node:http';
import type {
  ContainerCreateBody,
  ContainerInspect,
  ContainerSummary,
  ImageInspect,
  NetworkInspect,
} from './docker-types.js';

export type DockerOperation =
  | 'ping'
  | 'listContainers'
  | 'inspectContainer'
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'removeContainer'
  | 'renameContainer'
  | 'inspectImage'
  | 'inspectNetwork'
  | 'containerLogs';

/** What `providerError` keeps of a failed engine call. */
export interface DockerErrorDetails {
  readonly operation: DockerOperation;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;
}

export class DockerApiError extends Error implements DockerErrorDetails {
  readonly operation: DockerOperation;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: unknown;

  constructor(details: DockerErrorDetails) {
    super(`docker ${details.operation}: HTTP ${details.status} on ${details.method} ${details.path}`);
    this.name = 'DockerApiError';
    this.operation = details.operation;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.body = details.body;
  }

  toDetails(): DockerErrorDetails {
    return {
      operation: this.operation,
      method: this.method,
      path: this.path,
      status: this.status,
      body: this.body,
    };
  }
}

export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** `unix:///run/docker.sock`, `tcp://127.0.0.1:2375` or `http://…`; undefined for anything else. */
export function parseDockerHost(host: string): DockerEndpoint | undefined {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return socketPath.startsWith('/') ? { kind: 'unix', socketPath } : undefined;
  }
  const url = URL.canParse(host) ? new URL(host) : undefined;
  if (!url || !['tcp:', 'http:'].includes(url.protocol) || url.hostname === '') return undefined;
  return { kind: 'tcp', host: url.hostname, port: url.port === '' ? 2375 : Number(url.port) };
}

interface Call {
  readonly operation: DockerOperation;
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  /** Extra statuses that count as success (e.g. 304 "already started"). */
  readonly alsoOk?: readonly number[];
}

export interface ContainerLogsQuery {
  readonly follow: boolean;
  readonly tail?: number;
  /** Epoch seconds (fractions allowed). */
  readonly sinceSeconds?: number;
}

export class DockerClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    private readonly endpoint: DockerEndpoint,
    private readonly apiVersion = 'v1.41',
  ) {}

  async ping(signal: AbortSignal): Promise<void> {
    await this.call({ operation: 'ping', method: 'GET', path: '/_ping' }, signal);
  }

  /** All containers (running or not) carrying every one of the `key=value` labels. */
  async listContainers(labels: readonly string[], signal: AbortSignal): Promise<ContainerSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labels }));
    const path = `/containers/json?all=true&filters=${filters}`;
    return (await this.call(
      { operation: 'listContainers', method: 'GET', path },
      signal,
    )) as ContainerSummary[];
  }

  async inspectContainer(id: string, signal: AbortSignal): Promise<ContainerInspect> {
    const path = `/containers/${encodeURIComponent(id)}/json`;
    return (await this.call(
      { operation: 'inspectContainer', method: 'GET', path },
      signal,
    )) as ContainerInspect;
  }

  async createContainer(name: string, body: ContainerCreateBody, signal: AbortSignal): Promise<string> {
    const path = `/containers/create?name=${encodeURIComponent(name)}`;
    const created = (await this.call(
      { operation: 'createContainer', method: 'POST', path, body },
      signal,
    )) as {
      Id: string;
    };
    return created.Id;
  }

  async startContainer(id: string, signal: AbortSignal): Promise<void> {
    const path = `/containers/${encodeURIComponent(id)}/start`;
    await this.call({ operation: 'startContainer', method: 'POST', path, alsoOk: [304] }, signal);
  }

  /** SIGTERM, then SIGKILL after `timeoutSeconds`. */
  async stopContainer(id: string, timeoutSeconds: number, signal: AbortSignal): Promise<void> {
    const path = `/containers/${encodeURIComponent(id)}/stop?t=${timeoutSeconds}`;
    await this.call({ operation: 'stopContainer', method: 'POST', path, alsoOk: [304] }, signal);
  }

  /** Force-removes (kills if running) the container and its anonymous volumes. */
  async removeContainer(id: string, signal: AbortSignal): Promise<void> {
    const path = `/containers/${encodeURIComponent(id)}?force=true&v=true`;
    await this.call({ operation: 'removeContainer', method: 'DELETE', path }, signal);
  }

  async renameContainer(id: string, name: string, signal: AbortSignal): Promise<void> {
    const path = `/containers/${encodeURIComponent(id)}/rename?name=${encodeURIComponent(name)}`;
    await this.call({ operation: 'renameContainer', method: 'POST', path }, signal);
  }

  async inspectImage(image: string, signal: AbortSignal): Promise<ImageInspect> {
    const path = `/images/${encodeURIComponent(image)}/json`;
    return (await this.call({ operation: 'inspectImage', method: 'GET', path }, signal)) as ImageInspect;
  }

  async inspectNetwork(network: string, signal: AbortSignal): Promise<NetworkInspect> {
    const path = `/networks/${encodeURIComponent(network)}`;
    return (await this.call({ operation: 'inspectNetwork', method: 'GET', path }, signal)) as NetworkInspect;
  }

  /**
   * The container's log stream (`timestamps=true`), as the engine sends it: multiplexed frames for
   * a container without a TTY (see docker-logs.ts). The caller reads the body and owns it; an abort
   * of `signal` destroys it. A non-2xx answer rejects like any other call.
   */
  async containerLogs(
    id: string,
    query: ContainerLogsQuery,
    signal: AbortSignal,
  ): Promise<http.IncomingMessage> {
    const params = new URLSearchParams({
      stdout: 'true',
      stderr: 'true',
      timestamps: 'true',
      follow: String(query.follow),
      tail: query.tail === undefined ? 'all' : String(query.tail),
      ...(query.sinceSeconds !== undefined && { since: String(query.sinceSeconds) }),
    });
    const path = `/${this.apiVersion}/containers/${encodeURIComponent(id)}/logs?${params.toString()}`;
    const target =
      this.endpoint.kind === 'unix'
        ? { socketPath: this.endpoint.socketPath }
        : { host: this.endpoint.host, port: this.endpoint.port };
    // Its own socket (no agent): a followed stream may stay open for hours.
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        { ...target, method: 'GET', path, headers: { host: 'docker' }, signal },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    throw new DockerApiError({
      operation: 'containerLogs',
      method: 'GET',
      path,
      status,
      body: parseBody(Buffer.concat(chunks).toString('utf8')),
    });
  }

  /** Closes idle keep-alive sockets; calls in flight finish or fail on their own. */
  close(): void {
    this.agent.destroy();
  }

  private async call(call: Call, signal: AbortSignal): Promise<unknown> {
    const fullPath = call.path === '/_ping' ? call.path : `/${this.apiVersion}${call.path}`;
    const { status, text } = await this.send(call.method, fullPath, call.body, signal);
    const body = parseBody(text);
    if ((status >= 200 && status < 300) || call.alsoOk?.includes(status)) return body;
    throw new DockerApiError({
      operation: call.operation,
      method: call.method,
      path: fullPath,
      status,
      body,
    });
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const target =
      this.endpoint.kind === 'unix'
        ? { socketPath: this.endpoint.socketPath }
        : { host: this.endpoint.host, port: this.endpoint.port };
    const headers: Record<string, string> = { host: 'docker', accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    return new Promise((resolve, reject) => {
      const req = http.request({ ...target, method, path, headers, signal, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
