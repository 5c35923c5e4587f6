/** The routes of the fake API: the paths, bodies and status codes of the real one, over a FakeLessor. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tenant, TenantEvent } from '../../api/types.js';
import type { FakeLessor } from './fake-lessor.js';
import { FAKE_PROVIDERS, FakeProblem } from './fake-spec.js';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly raw: IncomingMessage;
}

export type Handler = (request: FakeRequest, match: string[], response: ServerResponse) => unknown;

export type Route = [method: string, path: RegExp, handler: Handler];

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

function reply(status: number, body: unknown): Reply {
  return { status, body };
}

/** Secrets never leave the server. */
function view(tenant: Tenant): Tenant {
  const secretEnv = tenant.spec.config.secretEnv as Record<string, string> | undefined;
  if (!secretEnv) return tenant;
  const masked = Object.fromEntries(Object.keys(secretEnv).map((k) => [k, '***']));
  return { ...tenant, spec: { ...tenant.spec, config: { ...tenant.spec.config, secretEnv: masked } } };
}

function page<T>(
  items: readonly T[],
  query: URLSearchParams,
  cursorOf: (item: T) => string,
): { items: T[]; nextCursor: string | null } {
  const limit = Number(query.get('limit') ?? 50);
  const cursor = query.get('cursor');
  const start = cursor === null ? 0 : items.findIndex((item) => cursorOf(item) === cursor) + 1;
  const slice = items.slice(start, start + limit);
  const last = slice[slice.length - 1];
  return { items: slice, nextCursor: start + limit < items.length && last ? cursorOf(last) : null };
}

function listTenants(lessor: FakeLessor, query: URLSearchParams) {
  const selector = (query.get('labels') ?? '').split(',').filter((s) => s !== '');
  const matches = (t: Tenant) =>
    (query.get('includeArchived') === 'true' || t.status.phase !== 'archived') &&
    (!query.get('phase') || t.status.phase === query.get('phase')) &&
    (!query.get('provider') || t.spec.provider === query.get('provider')) &&
    (!query.get('q') || t.name.startsWith(query.get('q') ?? '')) &&
    selector.every((req) => {
      const [key = '', value = ''] = req.split(/!=|==|=/);
      return req.includes('!=') ? t.spec.labels[key] !== value : t.spec.labels[key] === value;
    });
  const items = [...lessor.tenants.values()]
    .filter(matches)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(view);
  return reply(
    200,
    page(items, query, (t) => t.id),
  );
}

export function routeTable(lessor: FakeLessor): Route[] {
  const tenant = '/v1/tenants/([^/]+)';
  return [
    ['POST', /^\/v1\/tenants$/, (r) => reply(201, view(lessor.create(r.body)))],
    ['GET', /^\/v1\/tenants$/, (r) => listTenants(lessor, r.query)],
    ['GET', new RegExp(`^${tenant}$`), (_r, [id = '']) => reply(200, view(lessor.find(id)))],
    ['PUT', new RegExp(`^${tenant}$`), (r, [id = '']) => changed(lessor.replaceSpec(id, r.body.spec))],
    ['PATCH', new RegExp(`^${tenant}$`), (r, [id = '']) => changed(lessor.patch(id, r.body))],
    ['DELETE', new RegExp(`^${tenant}$`), (r, [id = '']) => deleteTenant(lessor, id, r.query)],
    ['POST', new RegExp(`^${tenant}/retry$`), (_r, [id = '']) => reply(202, view(lessor.retry(id)))],
    ['GET', new RegExp(`^${tenant}/events$`), (r, [id = '']) => tenantEvents(lessor, id, r.query)],
    ['GET', new RegExp(`^${tenant}/executions$`), (r, [id = '']) => tenantExecutions(lessor, id, r.query)],
    [
      'GET',
      /^\/v1\/compute\/executions\/([^/]+)$/,
      (_r, [id = '']) => reply(200, found(lessor.records.executions.get(id), 'compute execution', id)),
    ],
    [
      'GET',
      /^\/v1\/workflows\/runs\/([^/]+)$/,
      (_r, [id = '']) => reply(200, found(lessor.records.runs.get(id), 'workflow run', id)),
    ],
    ['GET', /^\/v1\/compute\/providers$/, () => reply(200, providers())],
    [
      'GET',
      /^\/v1\/compute\/providers\/([^/]+)\/schema$/,
      (_r, [type = '']) => reply(200, providerSchema(type)),
    ],
    [
      'GET',
      /^\/v1\/callbacks$/,
      (r) =>
        reply(
          200,
          page(
            lessor.records.callbacks.filter((c) => !r.query.get('state') || c.state === r.query.get('state')),
            r.query,
            (c) => c.id,
          ),
        ),
    ],
    ['POST', /^\/v1\/callbacks\/([^/]+)\/redrive$/, (_r, [id = '']) => redrive(lessor, id)],
    ['GET', /^\/v1\/events$/, (r, _m, response) => streamEvents(lessor, r, response)],
  ];
}

function changed(result: { tenant: Tenant; changed: boolean }): Reply {
  return reply(result.changed ? 202 : 200, view(result.tenant));
}

function deleteTenant(lessor: FakeLessor, id: string, query: URLSearchParams): Reply {
  if (query.get('purge') === 'true') {
    lessor.purge(id);
    return reply(204, null);
  }
  const tenant = lessor.delete(id);
  return reply(tenant.status.phase === 'archived' ? 200 : 202, view(tenant));
}

function tenantEvents(lessor: FakeLessor, id: string, query: URLSearchParams): Reply {
  const tenant = lessor.find(id);
  const after = Number(query.get('cursor') ?? 0);
  const events = lessor.events.filter((e) => e.tenantId === tenant.id && e.seq > after);
  return reply(
    200,
    page(events, new URLSearchParams({ limit: query.get('limit') ?? '50' }), (e) => String(e.seq)),
  );
}

function tenantExecutions(lessor: FakeLessor, id: string, query: URLSearchParams): Reply {
  const tenant = lessor.find(id);
  const items = [...lessor.records.executions.values()]
    .filter((x) => x.tenantId === tenant.id && (!query.get('status') || x.status === query.get('status')))
    .map(({ history: _history, ...execution }) => execution);
  return reply(
    200,
    page(items, query, (x) => x.executionId),
  );
}

function found<T>(value: T | undefined, what: string, id: string): T {
  if (value === undefined) throw new FakeProblem('NOT_FOUND', 404, `${what} '${id}' not found`);
  return value;
}

function providers() {
  const items = FAKE_PROVIDERS.map((type) => ({
    type,
    default: type === 'fake',
    defaults: {},
    timeoutMs: 30000,
    schemaUrl: `/v1/compute/providers/${type}/schema`,
  }));
  return { items, defaultProvider: 'fake' };
}

function providerSchema(type: string) {
  if (!FAKE_PROVIDERS.includes(type))
    throw new FakeProblem('NOT_FOUND', 404, `compute provider '${type}' not found`);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${type} provider config`,
    type: 'object',
  };
}

function redrive(lessor: FakeLessor, id: string): Reply {
  const index = lessor.records.callbacks.findIndex((c) => c.id === id);
  const callback = found(lessor.records.callbacks[index], 'callback', id);
  if (callback.state !== 'dead')
    throw new FakeProblem(
      'CONFLICT',
      409,
      `callback '${id}' is ${callback.state}; only a dead callback can be re-driven`,
    );
  const redriven = { ...callback, state: 'pending' as const, attempts: 0 };
  lessor.records.callbacks[index] = redriven;
  return reply(202, redriven);
}

function streamEvents(lessor: FakeLessor, request: FakeRequest, response: ServerResponse): undefined {
  const header = request.raw.headers['last-event-id'];
  const since =
    typeof header === 'string'
      ? Number(header)
      : request.query.has('since')
        ? Number(request.query.get('since'))
        : lessor.events.length;
  const tenantId = request.query.get('tenantId');
  const write = (event: TenantEvent) => {
    if (event.seq <= since || (tenantId !== null && event.tenantId !== tenantId)) return;
    response.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  };
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write('retry: 200\n\n');
  for (const event of lessor.events) write(event);
  const unsubscribe = lessor.subscribe(write);
  response.on('close', unsubscribe);
  return undefined;
}
