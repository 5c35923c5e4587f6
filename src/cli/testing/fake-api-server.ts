/**
 * A small HTTP server that answers like the Lessor API v1 (same paths, bodies, problem+json errors,
 * bearer tokens, SSE) over a `FakeLessor`, so the CLI can be tested as a child process without the
 * server composition. Not a second implementation of the API: only what the CLI uses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeLessor } from './fake-lessor.js';
import { routeTable, type FakeRequest, type Reply, type Route } from './fake-api-routes.js';
import { FakeProblem } from './fake-spec.js';

export interface FakeApiOptions {
  /** Time between two phases of a tenant (default 20 ms). */
  readonly stepMs?: number;
  /** When set, every /v1 request needs `Authorization: Bearer <token>`. */
  readonly adminToken?: string;
  /** A token that may read but not write (403 on writes). */
  readonly viewerToken?: string;
}

export interface FakeApi {
  readonly url: string;
  readonly lessor: FakeLessor;
  close(): Promise<void>;
}

export async function startFakeApi(options: FakeApiOptions = {}): Promise<FakeApi> {
  const lessor = new FakeLessor(options.stepMs ?? 20);
  const routes = routeTable(lessor);
  const server = createServer((raw, response) => void handle(raw, response, routes, options));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, lessor, close: () => closeServer(server, lessor) };
}

function closeServer(server: Server, lessor: FakeLessor): Promise<void> {
  lessor.close();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function handle(
  raw: IncomingMessage,
  response: ServerResponse,
  routes: readonly Route[],
  options: FakeApiOptions,
) {
  try {
    const url = new URL(raw.url ?? '/', 'http://fake');
    checkAuth(raw, options);
    const text = await readBody(raw);
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    const request: FakeRequest = {
      method: raw.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body,
      raw,
    };
    for (const [method, pattern, handler] of routes) {
      const match = method === request.method ? pattern.exec(request.path) : null;
      if (match) {
        const result = await handler(request, match.slice(1).map(decodeURIComponent), response);
        if (result !== undefined) send(response, result);
        return;
      }
    }
    throw new FakeProblem('NOT_FOUND', 404, `no route ${request.method} ${request.path}`);
  } catch (error) {
    sendProblem(
      response,
      error instanceof FakeProblem ? error : new FakeProblem('INTERNAL', 500, 'internal error'),
    );
  }
}

function checkAuth(raw: IncomingMessage, options: FakeApiOptions): void {
  if (options.adminToken === undefined) return;
  const header = raw.headers.authorization ?? '';
  if (header === `Bearer ${options.adminToken}`) return;
  if (options.viewerToken !== undefined && header === `Bearer ${options.viewerToken}`) {
    if (raw.method === 'GET') return;
    throw new FakeProblem('FORBIDDEN', 403, 'role viewer may not write');
  }
  throw new FakeProblem('UNAUTHORIZED', 401, 'a valid bearer token is required');
}

function readBody(raw: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    raw.setEncoding('utf8');
    raw.on('data', (chunk: string) => (text += chunk));
    raw.on('end', () => resolve(text));
    raw.on('error', reject);
  });
}

function send(response: ServerResponse, result: unknown): void {
  const { status, body } = result as Reply;
  if (body === null) {
    response.writeHead(status).end();
    return;
  }
  response
    .writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req-fake' })
    .end(JSON.stringify(body));
}

function sendProblem(response: ServerResponse, problem: FakeProblem): void {
  const body = {
    type: `urn:lessor:problem:${problem.code.toLowerCase().replace(/_/g, '-')}`,
    title:
      problem.code === 'VALIDATION_FAILED'
        ? 'Request validation failed'
        : problem.code.replace(/_/g, ' ').toLowerCase(),
    status: problem.status,
    detail: problem.message,
    code: problem.code,
    instance: '/v1',
    requestId: 'req-fake',
    ...(problem.errors.length > 0 && { errors: problem.errors }),
  };
  response
    .writeHead(problem.status, { 'content-type': 'application/problem+json', 'x-request-id': 'req-fake' })
    .end(JSON.stringify(body));
}
