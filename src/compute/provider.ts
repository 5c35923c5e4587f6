/**
 * The compute provider contract (docs/architecture.md, "Compute"; CONTRIBUTING.md has the recipe). A provider
 * adapts one engine; it observes and acts but never decides what to do next — the compute manager and the
 * workflows do.
 *
 * Invariants:
 * - `provision`, `update` and `delete` are idempotent. Resources are named and labelled
 *   deterministically from the tenant (`lessor-<tenant-name>`, labels `lessor.tenant-id`,
 *   `lessor.generation`, `lessor.execution-id`) and every call observes before it creates, so a
 *   retry after a crash or a lost response finds what the first attempt made.
 * - `delete` of something absent succeeds.
 * - `describe` reads the engine, never memory: a fresh instance finds everything an old one made.
 *   It gets the tenant's effective config (as provision/update do) so it looks where the runtime
 *   lives (e.g. a per-tenant cluster or region); providers that need no config ignore it.
 * - Every failure is thrown as a `ComputeError` (use `mapError` on native errors); map from
 *   structured fields (HTTP status, errno, error name), never from message text.
 * - Calls honour `signal`: when it aborts, stop waiting and throw (the manager maps it to
 *   PROVIDER_TIMEOUT).
 * - A provider that sets `returnsHealthy` resolves `provision` and `update` only once the runtime is
 *   healthy, with its endpoints: the workflows then skip their own `describe` after the call.
 * - `suspend`, `resume` and `logs` are optional; a provider offers `suspend` and `resume` together
 *   or neither. Callers check `supportsSuspend` / `logs` first (the API refuses a tenant whose
 *   provider lacks them up front).
 */
import type { ComputeError } from '../domain/compute-error.js';
import type { ConfigHasher } from '../domain/config-hasher.js';
import type { FieldProblem } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';
import type { Endpoint, JsonObject } from '../domain/tenant.js';

/**
 * JSON Schema 2020-12. Secret fields carry `"x-lessor-secret": true` (and `writeOnly: true`); fields
 * that decide what code runs with the tenant's env carry `"x-lessor-code": true`; fields only an
 * admin may set carry `"x-lessor-privileged": true` (the API enforces both, src/api/spec-privileges.ts).
 */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface TenantRef {
  readonly id: string;
  readonly name: string;
}

export interface ComputeRequest {
  readonly tenant: TenantRef;
  readonly generation: number;
  readonly executionId: string;
  /** Effective config: provider defaults merged, schema-validated. */
  readonly config: JsonObject;
}

/** What `describe` gets: the tenant and its effective config (defaults merged, validated). */
export type DescribeRequest = Pick<ComputeRequest, 'tenant' | 'config'>;

export interface ComputeResult {
  /** Flat map of engine ids (`containerId`, `serviceArn`, `pid`, …). */
  readonly resources: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  /** Update: human-readable list of what changed (`image`, `env`, …). */
  readonly changes?: readonly string[];
}

/** Which output a log request wants: the last `tail` lines, newer than `sinceMs`, then new ones. */
export interface LogRequest extends DescribeRequest {
  /** At most this many of the newest lines already written (before following); unset = all kept. */
  readonly tail?: number;
  /** Only lines written at or after this time (epoch ms). */
  readonly sinceMs?: number;
  /** Keep the stream open and yield new lines as they are written, until `signal` aborts. */
  readonly follow: boolean;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** RFC 3339 time the line was written (as the engine recorded it). */
  readonly ts: string;
  readonly stream: LogStream;
  /** One line of output, without its line break. */
  readonly line: string;
}

export interface ObservedRuntime {
  readonly exists: boolean;
  readonly running: boolean;
  /** Result of the configured health check; true when none is configured and it runs. */
  readonly healthy: boolean;
  /** The `lessor.generation` the runtime was made for, when the engine records it. */
  readonly generation: number | null;
  readonly resources: Readonly<Record<string, string>>;
  readonly endpoints: readonly Endpoint[];
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ComputeProvider {
  readonly type: string;
  /**
   * True when `provision` and `update` resolve only once the runtime exists, runs and passes its
   * health check (what `describe` would report right after) and their result's `endpoints` are the
   * runtime's. The workflows then take a successful call as "healthy" and skip the `describe` they
   * otherwise make after it (docs/architecture.md, "Workflows and the retry policy"); the provider
   * conformance suite checks the claim. Absent or false: the workflow describes the runtime after
   * every provision and update and requires it healthy.
   */
  readonly returnsHealthy?: boolean;
  configSchema(): JsonSchema;
  /**
   * Semantic checks beyond the schema (e.g. port ranges that depend on each other), run only on a
   * schema-valid config. Problem paths are relative to `spec.config` (`ports.1.hostPort`); the
   * registry prefixes them (a path already starting with `spec.config` is kept as is).
   */
  validate(config: JsonObject): readonly FieldProblem[];
  provision(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult>;
  update(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult>;
  delete(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult>;
  describe(request: DescribeRequest, signal: AbortSignal): Promise<ObservedRuntime>;
  /**
   * Optional fast path for drift checks: the ids of the tenants whose runtime runs, read from the
   * engine in one sweep (e.g. one labelled container list) where the provider's defaults point.
   * A tenant listed here needs no `describe`; every other tenant is described one by one, so a
   * listing that misses a place (a tenant in another cluster) costs time, never correctness.
   */
  listRunning?(signal: AbortSignal): Promise<ReadonlySet<string>>;
  /**
   * Optional: stops the runtime but keeps its resources and data (container and volumes, state dir,
   * service at desired count 0). Idempotent: a runtime already stopped, or absent, is suspended.
   */
  suspend?(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult>;
  /**
   * Optional (with `suspend`): starts again exactly what `suspend` kept — never a new runtime (same
   * container id) — and waits for its health check. Idempotent: a running runtime is resumed. An
   * absent runtime is NOT_FOUND (there is nothing to resume; an update re-creates it).
   */
  resume?(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult>;
  /**
   * Optional: the runtime's output, oldest first. Pulled line by line, so a slow reader holds the
   * engine back instead of memory growing; ends when the output ends (not following), when
   * `signal` aborts, or when the runtime is removed. Absent runtime: NOT_FOUND.
   */
  logs?(request: LogRequest, signal: AbortSignal): AsyncIterable<LogLine>;
  /**
   * Optional pre-flight check (`lessor doctor`): the engine answers and the configured credentials
   * are accepted, without changing anything. Resolves with a one-line description of what answered
   * (no secrets); throws a ComputeError. Providers without an external engine leave it out.
   */
  preflight?(signal: AbortSignal): Promise<string>;
  /** Normalises any thrown value into a ComputeError with a standard code. */
  mapError(error: unknown): ComputeError;
  /** Releases sockets, timers, child-process handles (never the runtimes themselves). */
  close?(): Promise<void>;
}

export function supportsSuspend(provider: ComputeProvider): boolean {
  return provider.suspend !== undefined && provider.resume !== undefined;
}

export interface ProviderSettings {
  /** The provider's block under `compute.providers.<type>` (engine address etc.). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Merged under `spec.config` before validation. */
  readonly defaults: JsonObject;
  /** Per-call timeout; the retry policy's `timeoutMs` may override it per operation. */
  readonly timeoutMs: number;
  readonly dataDir: string;
  /** Already bound to `provider: <type>`: a provider must not bind that key again. */
  readonly logger: Logger;
  /**
   * The server's keyed hash: every hash a provider records on the engine or on disk (labels, tags,
   * runtime records) is made with it, never with a plain hash of a config that holds secrets.
   */
  readonly hasher: ConfigHasher;
}

/** Adding a provider = a folder exporting one of these, plus one line in `main/`. */
export interface ProviderFactory {
  readonly type: string;
  create(settings: ProviderSettings): Promise<ComputeProvider>;
}
