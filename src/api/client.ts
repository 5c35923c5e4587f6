/**
 * Typed HTTP client of the Lessor API v1 (global `fetch`), used by the CLI and end-to-end tests.
 * Every non-2xx answer throws `ApiError` carrying the RFC 9457 problem. No server code is loaded.
 */
import { parseSse, type SseParserState } from './client-sse.js';
import type {
  AuditRecordList,
  Callback,
  CallbackList,
  CallbacksParams,
  ComputeExecutionList,
  ComputeExecutionWithHistory,
  CreateRolloutRequest,
  CreatePlanRequest,
  CreateTenantRequest,
  DryRunTenant,
  ExecutionsParams,
  JsonSchemaDocument,
  ListTenantsParams,
  PageParams,
  Plan,
  PlanList,
  PlanRevision,
  PlanRevisionList,
  Problem,
  ProblemCode,
  ProviderList,
  Rollout,
  RolloutCommand,
  RolloutDryRun,
  RolloutList,
  RolloutMemberList,
  RolloutMemberState,
  RolloutPhase,
  ReplacePlanRequest,
  SpecDiff,
  StreamEvent,
  Tenant,
  TenantRevisionList,
  TenantEvent,
  TenantEventList,
  TenantList,
  TenantPatch,
  TenantSpecInput,
  TenantSummary,
  WhoAmI,
  WorkflowRun,
} from './types.js';
import type {
  CreateWebhookInput,
  DeliveriesParams,
  WebhookDeliveryList,
  WebhookDeliveryResource,
  WebhookList,
  WebhookPatchInput,
  WebhookResource,
  WebhookWithSecret,
} from './types-webhooks.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(`${problem.code} (${status}): ${problem.detail}`);
    this.name = 'ApiError';
  }

  get code(): ProblemCode {
    return this.problem.code;
  }
}

export interface LessorClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  readonly baseUrl: string;
  readonly token?: string | undefined;
  /** Per request, default 30 s (not applied to `streamEvents`). */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface WriteOptions {
  /** The tenant `version` this write is based on (sent as `If-Match`; stale → 412). */
  readonly ifMatch?: number;
}

export interface StreamOptions {
  /** Resume after this sequence number; default: only new events. */
  readonly since?: number;
  readonly tenantId?: string;
  readonly signal?: AbortSignal;
  /** Reconnect with `Last-Event-ID` when the stream drops (default true). */
  readonly reconnect?: boolean;
}

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

interface Call {
  readonly query?: Query | undefined;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal | undefined;
}

const seg = encodeURIComponent;
const PROBLEM_BY_STATUS: Readonly<Record<number, ProblemCode>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  421: 'MISDIRECTED_REQUEST',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

export interface LogsParams {
  readonly tail?: number;
  /** RFC 3339. */
  readonly since?: string;
  readonly follow?: boolean;
}

export class LessorClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: LessorClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  createTenant(input: CreateTenantRequest, options: { idempotencyKey?: string } = {}): Promise<Tenant> {
    const headers: Record<string, string> = options.idempotencyKey
      ? { 'idempotency-key': options.idempotencyKey }
      : {};
    return this.json('POST', '/v1/tenants', { body: input, headers });
  }

  whoAmI(): Promise<WhoAmI> {
    return this.json('GET', '/v1/whoami');
  }

  /** Tenants per phase (all, or of one provider), counted by the server. */
  tenantSummary(params: { provider?: string } = {}): Promise<TenantSummary> {
    return this.json('GET', '/v1/tenant-summary', { query: { ...params } });
  }

  listTenants(params: ListTenantsParams = {}): Promise<TenantList> {
    return this.json('GET', '/v1/tenants', { query: { ...params } });
  }

  getTenant(idOrName: string): Promise<Tenant> {
    return this.json('GET', `/v1/tenants/${seg(idOrName)}`);
  }

  replaceSpec(idOrName: string, spec: TenantSpecInput, options: WriteOptions = {}): Promise<Tenant> {
    return this.json('PUT', `/v1/tenants/${seg(idOrName)}`, { body: { spec }, headers: ifMatch(options) });
  }

  /** JSON merge patch (RFC 7386) of the tenant: `{ spec: { config: { env: { MODE: 'debug' } } } }`. */
  patchTenant(idOrName: string, patch: TenantPatch, options: WriteOptions = {}): Promise<Tenant> {
    const headers = { ...ifMatch(options), 'content-type': 'application/merge-patch+json' };
    return this.json('PATCH', `/v1/tenants/${seg(idOrName)}`, { body: patch, headers });
  }

  /** The tenant (now deleting, or archived); null after a purge. */
  async deleteTenant(
    idOrName: string,
    options: WriteOptions & { purge?: boolean } = {},
  ): Promise<Tenant | null> {
    const query = options.purge ? { purge: true } : {};
    const response = await this.send('DELETE', `/v1/tenants/${seg(idOrName)}`, {
      query,
      headers: ifMatch(options),
    });
    return response.status === 204 ? null : ((await response.json()) as Tenant);
  }

  retryTenant(idOrName: string, options: WriteOptions = {}): Promise<Tenant> {
    return this.json('POST', `/v1/tenants/${seg(idOrName)}/retry`, { headers: ifMatch(options) });
  }

  /** The spec of every generation, newest first. */
  tenantRevisions(
    idOrName: string,
    params: { limit?: number; cursor?: string } = {},
  ): Promise<TenantRevisionList> {
    return this.json('GET', `/v1/tenants/${seg(idOrName)}/revisions`, { query: { ...params } });
  }

  /** A new generation equal to generation `toGeneration` (202). */
  rollbackTenant(idOrName: string, toGeneration: number, options: WriteOptions = {}): Promise<Tenant> {
    return this.json('POST', `/v1/tenants/${seg(idOrName)}/rollback`, {
      body: { toGeneration },
      headers: ifMatch(options),
    });
  }

  /**
   * Dry runs of the spec writes (`?dryRun=true`): every check of the real write, If-Match
   * included; the answer is the tenant as it would be, with its RFC 6902 `diff`. Nothing is stored.
   */
  dryRunReplaceSpec(
    idOrName: string,
    spec: TenantSpecInput,
    options: WriteOptions = {},
  ): Promise<DryRunTenant> {
    return this.json('PUT', `/v1/tenants/${seg(idOrName)}`, {
      body: { spec },
      headers: ifMatch(options),
      query: { dryRun: true },
    });
  }

  dryRunPatchTenant(idOrName: string, patch: TenantPatch, options: WriteOptions = {}): Promise<DryRunTenant> {
    const headers = { ...ifMatch(options), 'content-type': 'application/merge-patch+json' };
    return this.json('PATCH', `/v1/tenants/${seg(idOrName)}`, {
      body: patch,
      headers,
      query: { dryRun: true },
    });
  }

  dryRunRollbackTenant(
    idOrName: string,
    toGeneration: number,
    options: WriteOptions = {},
  ): Promise<DryRunTenant> {
    return this.json('POST', `/v1/tenants/${seg(idOrName)}/rollback`, {
      body: { toGeneration },
      headers: ifMatch(options),
      query: { dryRun: true },
    });
  }

  /** RFC 6902 operations turning generation `against` (default: the one before) into `generation`. */
  diffTenantRevisions(idOrName: string, generation: number, against?: number): Promise<SpecDiff> {
    return this.json('GET', `/v1/tenants/${seg(idOrName)}/revisions/${generation}/diff`, {
      query: { against },
    });
  }

  createPlan(input: CreatePlanRequest): Promise<Plan> {
    return this.json('POST', '/v1/plans', { body: input });
  }

  listPlans(params: PageParams = {}): Promise<PlanList> {
    return this.json('GET', '/v1/plans', { query: { ...params } });
  }

  getPlan(name: string): Promise<Plan> {
    return this.json('GET', `/v1/plans/${seg(name)}`);
  }

  /** A new revision when the body differs from the latest; `ifMatch` is the revision it is based on. */
  replacePlan(name: string, input: ReplacePlanRequest, options: WriteOptions = {}): Promise<Plan> {
    return this.json('PUT', `/v1/plans/${seg(name)}`, { body: input, headers: ifMatch(options) });
  }

  /** The plan as the PUT would leave it (the same revision when nothing changes); nothing is stored. */
  dryRunReplacePlan(name: string, input: ReplacePlanRequest, options: WriteOptions = {}): Promise<Plan> {
    return this.json('PUT', `/v1/plans/${seg(name)}`, {
      body: input,
      headers: ifMatch(options),
      query: { dryRun: true },
    });
  }

  /** Every revision of the plan, newest first. */
  planRevisions(name: string, params: PageParams = {}): Promise<PlanRevisionList> {
    return this.json('GET', `/v1/plans/${seg(name)}/revisions`, { query: { ...params } });
  }

  getPlanRevision(name: string, revision: number): Promise<PlanRevision> {
    return this.json('GET', `/v1/plans/${seg(name)}/revisions/${revision}`);
  }

  tenantEvents(idOrName: string, params: PageParams = {}): Promise<TenantEventList> {
    return this.json('GET', `/v1/tenants/${seg(idOrName)}/events`, { query: { ...params } });
  }

  tenantExecutions(idOrName: string, params: ExecutionsParams = {}): Promise<ComputeExecutionList> {
    return this.json('GET', `/v1/tenants/${seg(idOrName)}/executions`, { query: { ...params } });
  }

  getExecution(executionId: string): Promise<ComputeExecutionWithHistory> {
    return this.json('GET', `/v1/compute/executions/${seg(executionId)}`);
  }

  getRun(runId: string): Promise<WorkflowRun> {
    return this.json('GET', `/v1/workflows/runs/${seg(runId)}`);
  }

  listProviders(): Promise<ProviderList> {
    return this.json('GET', '/v1/compute/providers');
  }

  providerSchema(type: string): Promise<JsonSchemaDocument> {
    return this.json('GET', `/v1/compute/providers/${seg(type)}/schema`);
  }

  listCallbacks(params: CallbacksParams = {}): Promise<CallbackList> {
    return this.json('GET', '/v1/callbacks', { query: { ...params } });
  }

  redriveCallback(id: string): Promise<Callback> {
    return this.json('POST', `/v1/callbacks/${seg(id)}/redrive`);
  }

  createWebhook(input: CreateWebhookInput): Promise<WebhookWithSecret> {
    return this.json('POST', '/v1/webhooks', { body: input });
  }

  listWebhooks(params: PageParams = {}): Promise<WebhookList> {
    return this.json('GET', '/v1/webhooks', { query: { ...params } });
  }

  getWebhook(id: string): Promise<WebhookResource> {
    return this.json('GET', `/v1/webhooks/${seg(id)}`);
  }

  patchWebhook(id: string, patch: WebhookPatchInput): Promise<WebhookResource> {
    return this.json('PATCH', `/v1/webhooks/${seg(id)}`, { body: patch });
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.send('DELETE', `/v1/webhooks/${seg(id)}`, {});
  }

  rotateWebhookSecret(id: string): Promise<WebhookWithSecret> {
    return this.json('POST', `/v1/webhooks/${seg(id)}/rotate-secret`);
  }

  testWebhook(id: string): Promise<WebhookDeliveryResource> {
    return this.json('POST', `/v1/webhooks/${seg(id)}/test`);
  }

  listWebhookDeliveries(id: string, params: DeliveriesParams = {}): Promise<WebhookDeliveryList> {
    return this.json('GET', `/v1/webhooks/${seg(id)}/deliveries`, { query: { ...params } });
  }

  getWebhookDelivery(id: string, deliveryId: string): Promise<WebhookDeliveryResource> {
    return this.json('GET', `/v1/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}`);
  }

  retryWebhookDelivery(id: string, deliveryId: string): Promise<WebhookDeliveryResource> {
    return this.json('POST', `/v1/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}/retry`);
  }

  /**
   * The tenant's runtime output (`GET /v1/tenants/{id}/logs`) as text chunks, passed on as they
   * arrive; with `follow` it reads until `signal` aborts or the server ends the stream.
   */
  async *tenantLogs(idOrName: string, params: LogsParams = {}, signal?: AbortSignal): AsyncGenerator<string> {
    const query = { tail: params.tail, since: params.since, follow: params.follow ? true : undefined };
    const call = { query, headers: { accept: 'text/plain' }, ...(signal && { signal }) };
    const response = await this.send(
      'GET',
      `/v1/tenants/${seg(idOrName)}/logs`,
      call,
      params.follow !== true,
    );
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        if (text !== '') yield text;
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }

  createRollout(input: CreateRolloutRequest, options: { skipInvalid?: boolean } = {}): Promise<Rollout> {
    return this.json('POST', '/v1/rollouts', {
      body: input,
      query: { skipInvalid: options.skipInvalid || undefined },
    });
  }

  /** The dry run: the waves with their tenant names and the invalid members; nothing starts. */
  planRollout(input: CreateRolloutRequest): Promise<RolloutDryRun> {
    return this.json('POST', '/v1/rollouts', { body: input, query: { dryRun: true } });
  }

  listRollouts(params: PageParams & { phase?: RolloutPhase } = {}): Promise<RolloutList> {
    return this.json('GET', '/v1/rollouts', { query: { ...params } });
  }

  getRollout(id: string): Promise<Rollout> {
    return this.json('GET', `/v1/rollouts/${seg(id)}`);
  }

  rolloutTenants(
    id: string,
    params: PageParams & { state?: RolloutMemberState } = {},
  ): Promise<RolloutMemberList> {
    return this.json('GET', `/v1/rollouts/${seg(id)}/tenants`, { query: { ...params } });
  }

  commandRollout(id: string, command: RolloutCommand): Promise<Rollout> {
    return this.json('POST', `/v1/rollouts/${seg(id)}/${command}`);
  }

  /** The audit trail, newest first (admin). */
  listAudit(params: PageParams = {}): Promise<AuditRecordList> {
    return this.json('GET', '/v1/audit', { query: { ...params } });
  }

  /** Events of `GET /v1/events` as they come; ends when `signal` aborts (or the stream ends without `reconnect`). */
  async *streamEvents(options: StreamOptions = {}): AsyncGenerator<StreamEvent> {
    // Aborted when the consumer stops iterating, so the connection never outlives the loop.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const state: SseParserState = { retryMs: undefined };
    let lastId = options.since;
    let first = true;
    try {
      while (!signal.aborted) {
        try {
          const response = await this.openStream(options.tenantId, lastId, first, signal);
          first = false;
          for await (const frame of parseSse(response.body!, state)) {
            const event = {
              id: Number(frame.id),
              event: frame.event,
              data: JSON.parse(frame.data) as TenantEvent,
            };
            lastId = event.id;
            yield event;
          }
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError || options.reconnect === false) throw error;
        }
        if (options.reconnect === false) return;
        await delay(state.retryMs ?? 2000, signal);
      }
    } finally {
      stop.abort();
    }
  }

  private openStream(
    tenantId: string | undefined,
    lastId: number | undefined,
    first: boolean,
    signal: AbortSignal,
  ) {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (!first && lastId !== undefined) headers['last-event-id'] = String(lastId);
    const query = { since: first ? lastId : undefined, tenantId };
    return this.send('GET', '/v1/events', { query, headers, signal }, false);
  }

  private async json<T>(method: string, path: string, call: Call = {}): Promise<T> {
    const response = await this.send(method, path, call);
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, call: Call, timeout = true): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let body: string | undefined;
    if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['content-type'] ??= 'application/json';
    }
    const signals = [
      call.signal,
      timeout ? AbortSignal.timeout(this.options.timeoutMs ?? 30_000) : undefined,
    ];
    const active = signals.filter((s): s is AbortSignal => s !== undefined);
    const signal = active.length > 1 ? AbortSignal.any(active) : active[0];
    const response = await this.fetchImpl(`${this.baseUrl}${path}${queryString(call.query)}`, {
      method,
      headers,
      body,
      signal,
    });
    if (!response.ok) throw await toApiError(response);
    return response;
  }
}

function ifMatch(options: WriteOptions): Record<string, string> {
  return options.ifMatch === undefined ? {} : { 'if-match': `"${options.ifMatch}"` };
}

function queryString(query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as Problem;
    if (typeof problem.code === 'string') return new ApiError(response.status, problem);
  } catch {
    // not a problem document: synthesise one below
  }
  const code =
    PROBLEM_BY_STATUS[response.status] ?? (response.status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
  const problem: Problem = {
    type: 'about:blank',
    title: response.statusText,
    status: response.status,
    detail: text.slice(0, 500),
    code,
    instance: new URL(response.url || 'http://unknown/').pathname,
    requestId: response.headers.get('x-request-id') ?? '',
  };
  return new ApiError(response.status, problem);
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}
