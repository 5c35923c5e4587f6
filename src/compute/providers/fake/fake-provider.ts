/**
 * `fake` compute provider (docs/providers/fake.md): runtimes in the in-memory FakeEngine, with latency and
 * fault injection for tests and benchmarks. Never the default. Behaves like a real provider: observe before
 * create (a second provision finds the first runtime), delete of nothing succeeds, describe reads the engine,
 * every failure leaves as a ComputeError.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { deepEqualJson } from '../../../domain/canonical-json.js';
import { ComputeError } from '../../../domain/compute-error.js';
import { errorMessage, type FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type {
  ComputeProvider,
  ComputeRequest,
  ComputeResult,
  DescribeRequest,
  JsonSchema,
  LogLine,
  LogRequest,
  ObservedRuntime,
} from '../../provider.js';
import {
  FakeEngineError,
  sharedFakeEngine,
  type FakeEngine,
  type FakeLogLine,
  type FakeRuntime,
} from './fake-engine.js';
import { injectFaultsAfterWork, injectFaultsBeforeWork, partialFaultDue } from './fake-faults.js';
import {
  FAKE_CONFIG_SCHEMA,
  validateFakeConfig,
  type FakeConfig,
  type FakeOperation,
} from './fake-schema.js';

export interface FakeProviderOptions {
  /** Engine holding the runtimes; default the process-wide `sharedFakeEngine`. */
  readonly engine?: FakeEngine;
  /** Latency added to every call (config `latencyMs` adds to it). Default 0. */
  readonly latencyMs?: number;
  /**
   * Claim `returnsHealthy` (provider.ts). The fake's provision and update do leave a healthy
   * runtime, but by default it does not claim so: the fake stands in for any provider, and the
   * workflows' own health check after the call stays covered. Default false.
   */
  readonly returnsHealthy?: boolean;
}

const NO_RUNTIME: ObservedRuntime = {
  exists: false,
  running: false,
  healthy: false,
  generation: null,
  resources: {},
  endpoints: [],
};

export class FakeProvider implements ComputeProvider {
  readonly type = 'fake';
  readonly engine: FakeEngine;
  readonly returnsHealthy: boolean;
  private readonly latencyMs: number;

  constructor(options: FakeProviderOptions = {}) {
    this.engine = options.engine ?? sharedFakeEngine;
    this.latencyMs = options.latencyMs ?? 0;
    this.returnsHealthy = options.returnsHealthy ?? false;
  }

  configSchema(): JsonSchema {
    return FAKE_CONFIG_SCHEMA;
  }

  validate(config: JsonObject): readonly FieldProblem[] {
    return validateFakeConfig(config);
  }

  provision(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.run('provision', request, signal, () => this.converge(request, true));
  }

  update(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.run('update', request, signal, () => this.converge(request, false));
  }

  delete(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.run('delete', request, signal, () => {
      this.engine.remove(request.tenant.id);
      return { resources: {}, endpoints: [] };
    });
  }

  /** Stops the runtime and keeps both its resources; nothing (or a stopped runtime) is suspended. */
  suspend(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.run('suspend', request, signal, () => {
      const existing = this.engine.get(request.tenant.id);
      if (!existing) return { resources: {}, endpoints: [] };
      if (existing.running) {
        this.engine.put({ ...existing, running: false });
        this.engine.appendLog(existing.tenantId, 'stderr', 'stopping: suspended');
      }
      return { resources: resourcesOf(existing), endpoints: [] };
    });
  }

  /** Starts the kept runtime again, as it was made (same ids, same config and generation). */
  resume(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.run('resume', request, signal, () => {
      const existing = this.engine.get(request.tenant.id);
      if (!existing || existing.runtimeId === null) {
        throw new FakeEngineError('NOT_FOUND', `no runtime of tenant ${request.tenant.name} to resume`);
      }
      if (!existing.running) {
        this.engine.put({ ...existing, running: true });
        this.engine.appendLog(existing.tenantId, 'stdout', `started generation ${existing.generation}`);
      }
      return { resources: resourcesOf(existing), endpoints: endpointsOf(existing) };
    });
  }

  /** Synthetic output: a line per start, stop and reconfiguration, kept by the engine. */
  async *logs(request: LogRequest, signal: AbortSignal): AsyncIterable<LogLine> {
    const { tenant } = request;
    this.engine.recordCall('logs', tenant.id);
    if (!this.engine.get(tenant.id))
      throw new ComputeError('NOT_FOUND', `no runtime of tenant ${tenant.name}`);
    const since = request.sinceMs ?? 0;
    const kept = this.engine.logLines(tenant.id);
    let lines = kept.filter((l) => l.at >= since);
    if (request.tail !== undefined) lines = lines.slice(Math.max(0, lines.length - request.tail));
    // Following continues after the newest line kept now, whatever tail and since left out.
    let last = kept.at(-1);
    for (const line of lines) yield toLogLine(line);
    while (request.follow && !signal.aborted) {
      await this.engine.nextLog(tenant.id, signal);
      if (signal.aborted || !this.engine.get(tenant.id)) return;
      const all = this.engine.logLines(tenant.id);
      const fresh = last === undefined ? all : all.slice(all.lastIndexOf(last) + 1);
      for (const line of fresh) yield toLogLine(line);
      last = all.at(-1) ?? last;
    }
  }

  async describe({ tenant }: DescribeRequest, signal: AbortSignal): Promise<ObservedRuntime> {
    this.engine.recordCall('describe', tenant.id);
    await this.delay(this.latencyMs, signal);
    const runtime = this.engine.get(tenant.id);
    if (!runtime) return NO_RUNTIME;
    const complete = runtime.runtimeId !== null;
    return {
      exists: true,
      running: complete && runtime.running,
      healthy: complete && runtime.running,
      generation: runtime.generation,
      resources: resourcesOf(runtime),
      endpoints: complete ? endpointsOf(runtime) : [],
      details: { executionId: runtime.executionId },
    };
  }

  async listRunning(signal: AbortSignal): Promise<ReadonlySet<string>> {
    this.engine.recordCall('listRunning', '*');
    await this.delay(this.latencyMs, signal);
    const running = new Set<string>();
    for (const runtime of this.engine.all()) {
      if (runtime.runtimeId !== null && runtime.running) running.add(runtime.tenantId);
    }
    return running;
  }

  mapError(error: unknown): ComputeError {
    if (error instanceof ComputeError) return error;
    if (error instanceof FakeEngineError) {
      return new ComputeError(error.code, error.message, {
        ...error.extra,
        providerError: { name: error.name, code: error.code, message: error.message },
        cause: error,
      });
    }
    if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
      return new ComputeError('PROVIDER_TIMEOUT', 'fake engine call aborted', { cause: error });
    }
    return new ComputeError('INTERNAL', `fake engine: ${errorMessage(error)}`, {
      providerError: error,
      cause: error,
    });
  }

  /** Latency, faults, the work, late faults — and every failure mapped to a ComputeError. */
  private async run(
    operation: FakeOperation,
    request: ComputeRequest,
    signal: AbortSignal,
    work: () => ComputeResult,
  ): Promise<ComputeResult> {
    try {
      this.engine.recordCall(operation, request.tenant.id);
      const config = request.config as FakeConfig;
      await this.delay(this.latencyMs + (config.latencyMs ?? 0), signal);
      await injectFaultsBeforeWork(this.engine, operation, request, signal);
      const result = work();
      injectFaultsAfterWork(this.engine, operation, request);
      return result;
    } catch (error) {
      if (signal.aborted && !(error instanceof FakeEngineError)) {
        throw new ComputeError(
          'PROVIDER_TIMEOUT',
          `fake ${operation} aborted: ${errorMessage(signal.reason)}`,
          { cause: error },
        );
      }
      throw this.mapError(error);
    }
  }

  /** Provision and update: observe, then create what is missing or reconfigure in place. */
  private converge(request: ComputeRequest, provisioning: boolean): ComputeResult {
    const { tenant, config } = request;
    const existing = this.engine.get(tenant.id);
    const volumeId = existing?.volumeId ?? this.engine.newId('vol');
    if (provisioning && existing?.runtimeId == null && partialFaultDue(this.engine, request)) {
      this.engine.put({ ...base(request), volumeId, runtimeId: null, running: false });
      throw new FakeEngineError(
        'PARTIAL_FAILURE',
        `created volume ${volumeId} but the runtime failed to start`,
        {
          partial: { succeeded: ['volume'], failed: ['runtime'], resources: { volumeId } },
        },
      );
    }
    let runtimeId = existing?.runtimeId ?? null;
    if (runtimeId === null) {
      runtimeId = this.engine.newId('rt');
      this.engine.recordCreate(tenant.id);
    }
    const runtime: FakeRuntime = { ...base(request), volumeId, runtimeId, running: true };
    const changes = existing ? changedKeys(existing.config, config) : [];
    this.engine.put(runtime);
    this.engine.appendLog(tenant.id, 'stdout', `started generation ${request.generation}`);
    return {
      resources: resourcesOf(runtime),
      endpoints: endpointsOf(runtime),
      ...(!provisioning && { changes }),
    };
  }

  private async delay(ms: number, signal: AbortSignal): Promise<void> {
    if (ms > 0) await sleep(ms, undefined, { signal });
    else if (signal.aborted) throw signal.reason;
  }
}

function base(request: ComputeRequest): Omit<FakeRuntime, 'volumeId' | 'runtimeId' | 'running'> {
  return {
    tenantId: request.tenant.id,
    tenantName: request.tenant.name,
    generation: request.generation,
    executionId: request.executionId,
    config: request.config,
  };
}

function toLogLine(line: FakeLogLine): LogLine {
  return { ts: new Date(line.at).toISOString(), stream: line.stream, line: line.line };
}

function resourcesOf(runtime: FakeRuntime): Record<string, string> {
  return {
    runtimeName: `lessor-${runtime.tenantName}`,
    ...(runtime.volumeId !== null && { volumeId: runtime.volumeId }),
    ...(runtime.runtimeId !== null && { runtimeId: runtime.runtimeId }),
  };
}

function endpointsOf(runtime: FakeRuntime): { name: string; url: string }[] {
  const ports = (runtime.config as FakeConfig).ports ?? [{ containerPort: 80 }];
  return ports.map((p, i) => ({
    name: p.name ?? (i === 0 ? 'http' : `port-${p.containerPort}`),
    url: `http://lessor-${runtime.tenantName}.fake.invalid:${p.hostPort || p.containerPort}`,
  }));
}

/** Top-level config keys whose value differs (what an update reports as changed). */
function changedKeys(before: JsonObject, after: JsonObject): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => !deepEqualJson(before[k] ?? null, after[k] ?? null)).sort();
}
