/**
 * Configuration of the `restate` engine (no SDK import: the composition root may read it without
 * loading the SDK). Settings that are configuration keys are required here (their defaults live in
 * the configuration schema); the engine's own tuning has defaults, resolved once and frozen.
 */
import type { Store } from '../../store/store.js';
import type { WorkflowEngineOptions } from '../engine.js';

/** What the engine needs of Lessor's store: the run rows and the step journal (audit). */
export type RestateStore = Pick<Store, 'runs' | 'steps'>;

/**
 * Restate's retry policy for an invocation attempt that fails with a non-terminal error (Lessor's
 * store unreachable during a bookkeeping write, the endpoint down, a bug in workflow code outside a
 * step). After `maxAttempts` the invocation is paused (never killed: the journal is kept), and the
 * next `open()` of an engine resumes paused runs.
 */
export interface InvocationRetryPolicy {
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly factor: number;
  readonly maxAttempts: number;
}

export interface RestateEngineOptions extends WorkflowEngineOptions {
  readonly store: RestateStore;
  /** Restate ingress, e.g. `http://127.0.0.1:8080`. */
  readonly ingressUrl: string;
  /** Restate admin API, e.g. `http://127.0.0.1:9070`. */
  readonly adminUrl: string;
  /** Interface the service endpoint binds to (`engine.restate.endpointHost`). */
  readonly endpointHost: string;
  /** Port of the service endpoint; 0 picks a free one (`engine.restate.endpointPort`). */
  readonly endpointPort: number;
  /** URL Restate calls the endpoint at. Default `http://<endpointHost>:<bound port>`. */
  readonly endpointUrl?: string;
  /** Name of the Restate workflow service. Default `LessorRun`. */
  readonly serviceName?: string;
  /**
   * Restate request-identity public keys (`publickeyv1_…`): when given, the endpoint accepts only
   * requests signed by that Restate server. Empty: it accepts any caller (keep it on loopback).
   */
  readonly identityKeys: readonly string[];
  readonly retryPolicy?: Partial<InvocationRetryPolicy>;
  /** Restate asks an invocation without journal activity for this long to suspend. Default 60 s. */
  readonly inactivityTimeoutMs?: number;
  /** After the inactivity timeout, how long a step may keep running before the attempt is aborted. Default 30 min. */
  readonly abortTimeoutMs?: number;
  /** Timeout of each call to the admin API or the ingress. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** How long `open()` keeps trying to register the deployment. Default 30 s. */
  readonly registrationTimeoutMs?: number;
}

export interface ResolvedRestateOptions {
  readonly ingressUrl: string;
  readonly adminUrl: string;
  readonly endpointHost: string;
  readonly endpointPort: number;
  readonly endpointUrl: string | null;
  readonly serviceName: string;
  readonly identityKeys: readonly string[];
  readonly retryPolicy: InvocationRetryPolicy;
  readonly inactivityTimeoutMs: number;
  readonly abortTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly registrationTimeoutMs: number;
}

/** Up to 30 s apart, ~3.5 days of attempts before Restate pauses the invocation. */
export const DEFAULT_RETRY_POLICY: InvocationRetryPolicy = Object.freeze({
  initialIntervalMs: 200,
  maxIntervalMs: 30_000,
  factor: 2,
  maxAttempts: 10_000,
});

export function resolveRestateOptions(options: RestateEngineOptions): ResolvedRestateOptions {
  return Object.freeze({
    ingressUrl: trimSlash(options.ingressUrl),
    adminUrl: trimSlash(options.adminUrl),
    endpointHost: options.endpointHost,
    endpointPort: options.endpointPort,
    endpointUrl: options.endpointUrl === undefined ? null : trimSlash(options.endpointUrl),
    serviceName: options.serviceName ?? 'LessorRun',
    identityKeys: Object.freeze([...options.identityKeys]),
    retryPolicy: Object.freeze({ ...DEFAULT_RETRY_POLICY, ...options.retryPolicy }),
    inactivityTimeoutMs: options.inactivityTimeoutMs ?? 60_000,
    abortTimeoutMs: options.abortTimeoutMs ?? 30 * 60_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    registrationTimeoutMs: options.registrationTimeoutMs ?? 30_000,
  });
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
