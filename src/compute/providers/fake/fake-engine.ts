/**
 * The fake compute engine: where fake runtimes "really" live. It is a module-level object by
 * default, so a new `FakeProvider` instance in the same process (a simulated Lessor restart) finds
 * what an old one made — state in the engine, not in the provider. Tests may inject their own.
 *
 * A runtime has two resources, a volume and the runtime itself, so partial failures are possible.
 * Fault counters are keyed by execution id + operation + fault, so "fail N times, then succeed"
 * holds across retries of one execution and restarts of the provider.
 */
import type { ComputeErrorCode, PartialOutcome } from '../../../domain/compute-error.js';
import type { JsonObject } from '../../../domain/tenant.js';

export interface FakeRuntime {
  readonly tenantId: string;
  readonly tenantName: string;
  readonly generation: number;
  readonly executionId: string;
  readonly config: JsonObject;
  readonly volumeId: string | null;
  readonly runtimeId: string | null;
  readonly running: boolean;
}

/** A structured engine error (what a real engine's API would return); the provider maps it. */
export class FakeEngineError extends Error {
  constructor(
    readonly code: ComputeErrorCode,
    message: string,
    readonly extra: { retryAfterMs?: number; partial?: PartialOutcome } = {},
  ) {
    super(message);
    this.name = 'FakeEngineError';
  }
}

/** Lines of output the engine keeps per tenant (older ones are dropped, as a log rotation would). */
export const FAKE_LOG_LINES = 1000;

export interface FakeLogLine {
  readonly at: number;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export class FakeEngine {
  private readonly runtimes = new Map<string, FakeRuntime>();
  private readonly logs = new Map<string, FakeLogLine[]>();
  private readonly logWaiters = new Map<string, Set<() => void>>();
  private readonly creates = new Map<string, number>();
  private readonly calls = new Map<string, number>();
  private readonly faultCounters = new Map<string, number>();
  private nextId = 1;

  /** The tenant's runtime record (complete or partial), if any. */
  get(tenantId: string): FakeRuntime | undefined {
    return this.runtimes.get(tenantId);
  }

  put(runtime: FakeRuntime): void {
    this.runtimes.set(runtime.tenantId, runtime);
  }

  remove(tenantId: string): boolean {
    this.logs.delete(tenantId);
    this.wakeLogReaders(tenantId);
    return this.runtimes.delete(tenantId);
  }

  /** Appends a line of synthetic output to the tenant's log (capped at FAKE_LOG_LINES). */
  appendLog(tenantId: string, stream: FakeLogLine['stream'], line: string, at = Date.now()): void {
    const lines = this.logs.get(tenantId) ?? [];
    lines.push({ at, stream, line });
    if (lines.length > FAKE_LOG_LINES) lines.splice(0, lines.length - FAKE_LOG_LINES);
    this.logs.set(tenantId, lines);
    this.wakeLogReaders(tenantId);
  }

  /** The tenant's kept log lines, oldest first (a copy). */
  logLines(tenantId: string): readonly FakeLogLine[] {
    return [...(this.logs.get(tenantId) ?? [])];
  }

  /**
   * Resolves at the next line appended for the tenant, when its runtime is removed, or when
   * `signal` aborts (then the waiter is dropped at once: nothing is kept for a reader that left).
   */
  nextLog(tenantId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const waiters = this.logWaiters.get(tenantId) ?? new Set();
      const wake = (): void => {
        signal.removeEventListener('abort', wake);
        waiters.delete(wake);
        if (waiters.size === 0 && this.logWaiters.get(tenantId) === waiters) this.logWaiters.delete(tenantId);
        resolve();
      };
      waiters.add(wake);
      this.logWaiters.set(tenantId, waiters);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  /** Readers waiting for a tenant's next line (tests: nothing is left behind by a reader that left). */
  logReaderCount(tenantId: string): number {
    return this.logWaiters.get(tenantId)?.size ?? 0;
  }

  private wakeLogReaders(tenantId: string): void {
    for (const wake of [...(this.logWaiters.get(tenantId) ?? [])]) wake();
  }

  newId(kind: 'rt' | 'vol'): string {
    return `fake-${kind}-${this.nextId++}`;
  }

  /** Records that a runtime was created for the tenant (what a duplicate check counts). */
  recordCreate(tenantId: string): void {
    this.creates.set(tenantId, (this.creates.get(tenantId) ?? 0) + 1);
  }

  recordCall(operation: string, tenantId: string): void {
    for (const key of [operation, `${operation}:${tenantId}`])
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Increments and returns how often `fault` was evaluated for this execution and operation. */
  bumpFault(executionId: string, operation: string, fault: string): number {
    const key = `${executionId}:${operation}:${fault}`;
    const count = (this.faultCounters.get(key) ?? 0) + 1;
    this.faultCounters.set(key, count);
    return count;
  }

  // ---- inspection helpers for tests and benchmarks ----

  /** Every runtime record (complete or partial). */
  all(): IterableIterator<FakeRuntime> {
    return this.runtimes.values();
  }

  /** Complete runtimes (both resources made) for one tenant, or overall. */
  runtimeCount(tenantId?: string): number {
    const all = [...this.runtimes.values()].filter((r) => r.runtimeId !== null);
    return tenantId === undefined ? all.length : all.filter((r) => r.tenantId === tenantId).length;
  }

  /** How many times a runtime was created for the tenant over its life. */
  createCount(tenantId: string): number {
    return this.creates.get(tenantId) ?? 0;
  }

  /** Calls of an operation (`provision`, `update`, `delete`, `describe`), for one tenant or overall. */
  callCount(operation: string, tenantId?: string): number {
    return this.calls.get(tenantId === undefined ? operation : `${operation}:${tenantId}`) ?? 0;
  }

  reset(): void {
    this.runtimes.clear();
    this.logs.clear();
    this.creates.clear();
    this.calls.clear();
    this.faultCounters.clear();
  }
}

/** The process-wide engine every FakeProvider uses unless given another. */
export const sharedFakeEngine = new FakeEngine();
