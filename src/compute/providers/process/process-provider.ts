/**
 * `process` compute provider (docs/providers/process.md): each tenant runs as a supervised, detached local
 * process group — the zero-dependency default. State lives on disk (process-state.ts) and in /proc, so a
 * restarted Lessor finds, updates and deletes what an earlier one started.
 *
 * - provision / update converge: a live process with the same config hash that passes its health
 *   check is kept (generation refreshed); otherwise a new one is started, recorded BEFORE success,
 *   health-checked (failure → killed, HEALTH_CHECK_FAILED), and the old one stopped. With `port: 0`
 *   the new process gets a new port and the old one serves until the new one is healthy; with a
 *   fixed port the old one is stopped first.
 * - delete stops the process group (SIGTERM, SIGKILL after a grace) and removes the directory.
 * - Calls for one tenant are serialised within a provider instance.
 */
import { ComputeError } from '../../../domain/compute-error.js';
import type { ConfigHasher } from '../../../domain/config-hasher.js';
import type { FieldProblem } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/tenant.js';
import type {
  ComputeProvider,
  ComputeRequest,
  ComputeResult,
  DescribeRequest,
  JsonSchema,
  ObservedRuntime,
  TenantRef,
} from '../../provider.js';
import { probeOnce, waitHealthy } from './health-check.js';
import { findTenantGroupLeaders, isAlive, pickFreePort, stopProcessGroup } from './process-control.js';
import { endpointsOf, launchRuntime, resourcesOf } from './process-launch.js';
import { mapProcessError } from './process-errors.js';
import type { RunAs } from './process-options.js';
import { PROCESS_CONFIG_SCHEMA, validateProcessConfig, type ProcessConfig } from './process-schema.js';
import {
  readRecord,
  removeRecord,
  removeTenantDir,
  tenantDir,
  writeRecord,
  type RecordSlot,
  type RuntimeRecord,
} from './process-state.js';

export interface ProcessProviderOptions {
  /** Lessor's data directory; state goes to `<dataDir>/process/<tenant-name>/`. */
  readonly dataDir: string;
  /** The server's keyed hash, for the config hashes in runtime records (never a plain hash). */
  readonly hasher: ConfigHasher;
  /** SIGTERM → SIGKILL grace when stopping a process. Default 3000 ms. */
  readonly stopGraceMs?: number;
  /** Without a health check: how long the process must stay up to count as started. Default 300 ms. */
  readonly startupGraceMs?: number;
  /** Run tenant commands under this uid/gid (Lessor must be root); default: Lessor's own user. */
  readonly runAs?: RunAs;
}

const NO_RUNTIME: ObservedRuntime = {
  exists: false,
  running: false,
  healthy: false,
  generation: null,
  resources: {},
  endpoints: [],
};

export class ProcessProvider implements ComputeProvider {
  readonly type = 'process';
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly stopGraceMs: number;
  private readonly startupGraceMs: number;

  constructor(private readonly options: ProcessProviderOptions) {
    this.stopGraceMs = options.stopGraceMs ?? 3_000;
    this.startupGraceMs = options.startupGraceMs ?? 300;
  }

  configSchema(): JsonSchema {
    return PROCESS_CONFIG_SCHEMA;
  }

  validate(config: JsonObject): readonly FieldProblem[] {
    return validateProcessConfig(config);
  }

  provision(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guarded(request.tenant, signal, () => this.converge(request, signal));
  }

  update(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guarded(request.tenant, signal, () => this.converge(request, signal));
  }

  delete(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    return this.guarded(request.tenant, signal, async () => {
      const dir = this.dirOf(request.tenant);
      await this.discardUnfinished(dir);
      await this.stopUntracked(dir, request.tenant);
      const current = await readRecord(dir, 'runtime');
      if (current) await stopProcessGroup(current, this.stopGraceMs);
      await removeTenantDir(dir);
      return { resources: {}, endpoints: [] };
    });
  }

  async describe({ tenant }: DescribeRequest, signal: AbortSignal): Promise<ObservedRuntime> {
    try {
      const record = await readRecord(this.dirOf(tenant), 'runtime');
      if (!record || record.tenantId !== tenant.id) return NO_RUNTIME;
      const running = await isAlive(record);
      const healthy =
        running &&
        (record.healthCheck === null ||
          (await probeOnce(record.healthCheck, record.port, signal)) === undefined);
      return {
        exists: true,
        running,
        healthy,
        generation: record.generation,
        resources: resourcesOf(record),
        endpoints: endpointsOf(record),
        details: {
          executionId: record.executionId,
          configHash: record.configHash,
          port: record.port,
          startedAt: record.startedAt,
        },
      };
    } catch (error) {
      throw mapProcessError(error);
    }
  }

  mapError(error: unknown): ComputeError {
    return mapProcessError(error);
  }

  /** Serialises calls per tenant and maps every failure to a ComputeError. */
  private async guarded<T>(tenant: TenantRef, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(tenant.name) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(fn);
    this.locks.set(tenant.name, current);
    try {
      return await current;
    } catch (error) {
      if (signal.aborted && !(error instanceof ComputeError)) {
        throw new ComputeError('PROVIDER_TIMEOUT', 'process provider call aborted', { cause: error });
      }
      throw mapProcessError(error);
    } finally {
      if (this.locks.get(tenant.name) === current) this.locks.delete(tenant.name);
    }
  }

  private async converge(request: ComputeRequest, signal: AbortSignal): Promise<ComputeResult> {
    signal.throwIfAborted();
    const dir = this.dirOf(request.tenant);
    await this.discardUnfinished(dir);
    await this.stopUntracked(dir, request.tenant);
    const current = await readRecord(dir, 'runtime');
    if (current && current.tenantId !== request.tenant.id && (await isAlive(current))) {
      throw new ComputeError(
        'CONFLICT',
        `${dir} holds a live process of another tenant (${current.tenantId})`,
      );
    }
    const live = current && (await isAlive(current)) ? current : undefined;
    const sameConfig = live?.configHash === this.options.hasher(request.config);
    if (live && sameConfig && (await this.keepsRunning(live, signal))) {
      return this.adopt(dir, live, request);
    }
    return this.replace(dir, request, live, signal);
  }

  /** Same config, healthy: keep the process and record the generation it now serves. */
  private async adopt(dir: string, live: RuntimeRecord, request: ComputeRequest): Promise<ComputeResult> {
    if (live.generation !== request.generation || live.executionId !== request.executionId) {
      await writeRecord(dir, 'runtime', {
        ...live,
        generation: request.generation,
        executionId: request.executionId,
      });
    }
    return { resources: resourcesOf(live), endpoints: endpointsOf(live), changes: [] };
  }

  /** Starts a new process for `request`, health-checks it, then retires `live` (if any). */
  private async replace(
    dir: string,
    request: ComputeRequest,
    live: RuntimeRecord | undefined,
    signal: AbortSignal,
  ): Promise<ComputeResult> {
    const config = request.config as unknown as ProcessConfig;
    const port = config.port !== undefined && config.port !== 0 ? config.port : await pickFreePort();
    if (live && live.port === port) await stopProcessGroup(live, this.stopGraceMs);
    const staged = live !== undefined && live.port !== port;
    const slot: RecordSlot = staged ? 'runtime.next' : 'runtime';
    const record = await launchRuntime(dir, request, port, this.options.hasher, this.options.runAs);
    await writeRecord(dir, slot, record);
    await this.mustBecomeHealthy(dir, record, slot, signal);
    if (staged) await this.switchOver(dir, live, record);
    const changes = live
      ? Object.keys({ ...live.fieldHashes, ...record.fieldHashes }).filter(
          (k) => live.fieldHashes[k] !== record.fieldHashes[k],
        )
      : [];
    return { resources: resourcesOf(record), endpoints: endpointsOf(record), changes: changes.sort() };
  }

  /**
   * Makes `next` the tenant's runtime and stops `old`. Every step is recorded first, so a crash at
   * any point leaves each process tracked by some record and `discardUnfinished` converges.
   */
  private async switchOver(dir: string, old: RuntimeRecord, next: RuntimeRecord): Promise<void> {
    await writeRecord(dir, 'runtime.retiring', old);
    await writeRecord(dir, 'runtime', next);
    await removeRecord(dir, 'runtime.next');
    await stopProcessGroup(old, this.stopGraceMs);
    await removeRecord(dir, 'runtime.retiring');
  }

  /**
   * Health check (or, without one, survival of the start-up grace); on failure the process is killed.
   * The error never carries the process's output: it is application data that may hold secrets, and
   * errors reach viewers (execution records, callbacks, events). The output stays in `stdout.log`.
   */
  private async mustBecomeHealthy(
    dir: string,
    record: RuntimeRecord,
    slot: RecordSlot,
    signal: AbortSignal,
  ): Promise<void> {
    const outcome = record.healthCheck
      ? await waitHealthy(record.healthCheck, record.port, () => isAlive(record), signal)
      : await this.survivesStartup(record, signal);
    if (outcome.ok) return;
    await stopProcessGroup(record, this.stopGraceMs);
    if (slot === 'runtime.next') await removeRecord(dir, slot);
    throw new ComputeError(
      'HEALTH_CHECK_FAILED',
      `tenant process ${record.pid} is not healthy: ${outcome.reason}`,
      { providerError: { pid: record.pid, port: record.port, exited: outcome.exited } },
    );
  }

  private async survivesStartup(
    record: RuntimeRecord,
    signal: AbortSignal,
  ): Promise<{ ok: true } | { ok: false; reason: string; exited: boolean }> {
    await new Promise((resolve) => setTimeout(resolve, this.startupGraceMs));
    signal.throwIfAborted();
    return (await isAlive(record))
      ? { ok: true }
      : { ok: false, reason: 'the process exited during start-up', exited: true };
  }

  private async keepsRunning(live: RuntimeRecord, signal: AbortSignal): Promise<boolean> {
    return live.healthCheck === null || (await probeOnce(live.healthCheck, live.port, signal)) === undefined;
  }

  /**
   * Finishes what a crash interrupted: a half-started replacement (`runtime.next`) or a process
   * being retired (`runtime.retiring`) is stopped unless it is the recorded runtime, then forgotten.
   */
  private async discardUnfinished(dir: string): Promise<void> {
    for (const slot of ['runtime.next', 'runtime.retiring'] as const) {
      const stray = await readRecord(dir, slot);
      if (!stray) continue;
      const current = await readRecord(dir, 'runtime');
      if (!current || current.pid !== stray.pid) await stopProcessGroup(stray, this.stopGraceMs);
      await removeRecord(dir, slot);
    }
  }

  /**
   * Stops the tenant's processes that no record tracks: Lessor died after spawning one and before
   * recording it. Without this, the retry would start a second runtime next to the orphan.
   */
  private async stopUntracked(dir: string, tenant: TenantRef): Promise<void> {
    const current = await readRecord(dir, 'runtime');
    for (const leader of await findTenantGroupLeaders(tenant.id)) {
      if (current && current.pid === leader.pid) continue;
      await stopProcessGroup(leader, this.stopGraceMs);
    }
  }

  private dirOf(tenant: TenantRef): string {
    return tenantDir(this.options.dataDir, tenant.name);
  }
}
