/**
 * What the HTTP API needs from the rest of Lessor (small ports, so tests can pass fakes) and how it
 * is tuned. The composition root passes the real store, provider registry, compute API, workflow
 * engine and controller trigger.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { EventFeed } from '../callbacks/event-feed.js';
import type { DestinationGuard } from '../callbacks/webhook-destination.js';
import type { ComputeApi } from '../compute/compute-api.js';
import type { ProviderRegistry } from '../compute/provider-registry.js';
import type { ReconcileTrigger } from '../controller/reconcile-trigger.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import type { Store } from '../store/store.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import type { Access, Principal, TokenConfig } from './auth.js';
import type { MetricsAccessOptions } from './metrics-access.js';

/** The provider registry as the API uses it: discovery, resolution, validation, redaction. */
export type ProviderCatalog = Pick<
  ProviderRegistry,
  | 'list'
  | 'schema'
  | 'resolveProvider'
  | 'effectiveConfig'
  | 'mergedConfig'
  | 'redactSecrets'
  | 'mapSecrets'
  | 'mayHoldSecrets'
  | 'defaultProvider'
  | 'supports'
>;

export type ApiStore = Pick<
  Store,
  'tenants' | 'revisions' | 'plans' | 'events' | 'callbacks' | 'idempotency' | 'audit' | 'probeWrite'
> &
  Partial<Pick<Store, 'webhooks'>>;

/** What the webhook routes need beyond the store. */
export interface WebhookApi {
  /** Checks a webhook URL as a delivery would (scheme, credentials, resolved addresses). */
  readonly guard: Pick<DestinationGuard, 'check'>;
  /** Wakes the dispatcher (a test ping or a retry by hand is due now). */
  wake(): void;
  /** How long a rotated-out secret keeps signing. */
  readonly secretOverlapMs: number;
}

export interface ApiDeps {
  readonly store: ApiStore;
  readonly providers: ProviderCatalog;
  readonly executions: Pick<ComputeApi, 'get' | 'list'>;
  /** Runtime output of a tenant, read through its provider (`GET /v1/tenants/{id}/logs`). */
  readonly logs: Pick<ComputeApi, 'logs'>;
  readonly runs: Pick<WorkflowEngine, 'getRun' | 'journal' | 'ping'>;
  readonly trigger: ReconcileTrigger;
  /** The server's keyed hash (stored request hashes cover bodies with secrets in them). */
  readonly hasher: ConfigHasher;
  /** A pino logger; request logs are its children, carrying `requestId`. */
  readonly logger: FastifyBaseLogger;
  /** Registry for `/metrics`; a private one is made when absent. */
  readonly metrics?: Registry;
  readonly now?: () => Date;
  /** Called after a dead callback was re-driven, to wake the dispatcher at once. */
  readonly wakeCallbacks?: () => void;
  /** Outgoing webhooks; absent, the webhook routes answer 503. */
  readonly webhooks?: WebhookApi;
  /** The process's one reader of the event log; every `GET /v1/events` stream subscribes to it. */
  readonly feed: Pick<EventFeed, 'subscribe'>;
  /** Fleet rollouts; without it the `/v1/rollouts` routes are not served. */
  readonly rollouts?: RolloutService;
}

/** `server.sse` as the API needs it (the feed has its own settings). */
export interface SseOptions {
  readonly heartbeatMs: number;
  readonly maxStreams: number;
  readonly maxStreamsPerPrincipal: number;
}

/** Configured settings: their defaults live in the configuration schema only (`server.*`). */
export interface ApiOptions {
  /** Bearer tokens; none configured = authentication off (loopback only: the configuration checks). */
  readonly tokens: readonly TokenConfig[];
  /** Larger bodies get 413. */
  readonly bodyLimitBytes: number;
  /** Time allowed to receive a whole request (node `requestTimeout`). */
  readonly requestTimeoutMs: number;
  /** Per token (or per IP when anonymous); 0 disables. */
  readonly rateLimitPerMinute: number;
  /** 401s allowed per client IP per minute before that IP is locked out (429); 0 disables. */
  readonly authFailuresPerMinute: number;
  /**
   * `policy.rawSpecs`: the least role that may write a tenant without a plan or with overrides
   * outside its plan's `allowedOverrides` (default `admin`).
   */
  readonly rawSpecs?: 'admin' | 'operator' | undefined;
  /** `compute.defaultProvider`; the registry's own default applies when absent. */
  readonly defaultProvider?: string | undefined;
  /** Extra readiness check for `/readyz` (e.g. the controller has started). */
  readonly ready?: () => Promise<void>;
  readonly sse: SseOptions;
  /** Serve the web dashboard at `/` from this build directory (absent: no dashboard). */
  readonly dashboard?: { readonly dir: string } | undefined;
  /** Who may read `/metrics` (metrics-access.ts); loopback only when absent. */
  readonly metrics?: MetricsAccessOptions;
}

/** What every route module receives. */
export interface ApiContext {
  readonly deps: ApiDeps;
  readonly options: ApiOptions;
  readonly now: () => Date;
}

export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (default `read`). */
    access?: Access;
    /** Accepted request media types (default `application/json`). */
    mediaTypes?: readonly string[];
  }
  interface FastifyRequest {
    principal: Principal;
  }
}

/** `api:<token name>`: the actor recorded on tenant events. */
export function actorOf(principal: Principal): string {
  return `api:${principal.name}`;
}
