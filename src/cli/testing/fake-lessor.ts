/**
 * An in-memory Lessor for CLI tests: tenants move through the phases on timers the way the real
 * controller moves them (requested → provisioning → ready, updating, deleting → archived, failed
 * when `spec.config.faults.nonRetriable`, stuck when `faults.hang`), with an event log, executions,
 * runs and callbacks. Errors are `FakeProblem`s that fake-api-server.ts sends as problem+json.
 */
import { randomUUID } from 'node:crypto';
import { applyMergePatch } from '../../api/merge-patch.js';
import type { Tenant, TenantEvent } from '../../api/types.js';
import type { Phase } from '../../domain/tenant.js';
import { FakeRecords } from './fake-records.js';
import { checkSpec, FakeProblem, validation } from './fake-spec.js';

type Json = Record<string, unknown>;

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class FakeLessor {
  readonly tenants = new Map<string, Tenant>();
  readonly events: TenantEvent[] = [];
  readonly records = new FakeRecords();
  private readonly listeners = new Set<(event: TenantEvent) => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private retries = 0;

  /** `stepMs`: time between two phases of a tenant's life. */
  constructor(private readonly stepMs = 20) {}

  subscribe(listener: (event: TenantEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  find(idOrName: string): Tenant {
    const tenant =
      this.tenants.get(idOrName) ??
      [...this.tenants.values()].find((t) => t.name === idOrName && t.status.phase !== 'archived');
    if (!tenant) throw new FakeProblem('NOT_FOUND', 404, `tenant '${idOrName}' not found`);
    return tenant;
  }

  create(body: Json): Tenant {
    const name = typeof body.name === 'string' ? body.name : '';
    const unknown = Object.keys(body).filter((k) => k !== 'name' && k !== 'spec');
    if (unknown.length > 0) throw validation(unknown.map((k) => ({ path: k, message: 'unknown field' })));
    if (!NAME.test(name)) throw validation([{ path: 'name', message: 'must be a DNS label' }]);
    if ([...this.tenants.values()].some((t) => t.name === name && t.status.phase !== 'archived')) {
      throw new FakeProblem('CONFLICT', 409, `a tenant named '${name}' already exists`);
    }
    const now = new Date().toISOString();
    const tenant: Tenant = {
      id: randomUUID(),
      name,
      spec: checkSpec(body.spec),
      generation: 1,
      status: {
        phase: 'requested',
        observedGeneration: 0,
        message: 'accepted',
        compute: null,
        workflow: null,
        resources: {},
        endpoints: [],
        lastError: null,
        conditions: [],
        effectiveConfigHash: null,
      },
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    this.tenants.set(tenant.id, tenant);
    this.record(tenant, 'Created', null, 'requested');
    this.schedule(tenant.id);
    return tenant;
  }

  replaceSpec(idOrName: string, specInput: unknown): { tenant: Tenant; changed: boolean } {
    const current = this.find(idOrName);
    if (current.status.phase === 'deleting' || current.status.phase === 'archived') {
      throw new FakeProblem(
        'CONFLICT',
        409,
        `tenant '${current.name}' is ${current.status.phase}; its spec can no longer change`,
      );
    }
    const spec = checkSpec(specInput);
    if (JSON.stringify(spec) === JSON.stringify(current.spec)) return { tenant: current, changed: false };
    const tenant = this.save({ ...current, spec, generation: current.generation + 1 });
    this.record(tenant, 'SpecChanged', null, null);
    this.schedule(tenant.id);
    return { tenant, changed: true };
  }

  patch(idOrName: string, patch: Json): { tenant: Tenant; changed: boolean } {
    const current = this.find(idOrName);
    const unknown = Object.keys(patch).filter((k) => k !== 'spec');
    if (unknown.length > 0) throw validation(unknown.map((k) => ({ path: k, message: 'unknown field' })));
    return this.replaceSpec(current.id, applyMergePatch(current.spec, patch.spec ?? {}));
  }

  delete(idOrName: string): Tenant {
    const current = this.find(idOrName);
    if (current.status.phase === 'deleting' || current.status.phase === 'archived') return current;
    const tenant = this.transition(current, 'deleting', 'delete requested');
    this.schedule(tenant.id);
    return tenant;
  }

  purge(idOrName: string): void {
    const current = this.find(idOrName);
    if (current.status.phase !== 'archived') {
      throw new FakeProblem(
        'CONFLICT',
        409,
        `tenant '${current.name}' is ${current.status.phase}; only an archived tenant can be purged`,
      );
    }
    this.tenants.delete(current.id);
  }

  retry(idOrName: string): Tenant {
    const current = this.find(idOrName);
    if (current.status.phase !== 'failed') {
      throw new FakeProblem(
        'INVALID_TRANSITION',
        409,
        `tenant '${current.name}' is ${current.status.phase}; only a failed tenant can be retried`,
      );
    }
    this.retries += 1;
    const to: Phase = current.status.observedGeneration === 0 ? 'provisioning' : 'updating';
    const tenant = this.startWork(current, to, `:r${this.retries}`);
    this.schedule(tenant.id);
    return tenant;
  }

  /** One step of the controller for this tenant, from its current state (level-triggered). */
  private reconcile(id: string): void {
    const tenant = this.tenants.get(id);
    if (!tenant || tenant.spec.paused) return;
    const { phase, observedGeneration } = tenant.status;
    const faults = (tenant.spec.config.faults ?? {}) as { nonRetriable?: boolean; hang?: boolean };
    if (phase === 'requested') return this.next(this.startWork(tenant, 'provisioning', ''));
    if (phase === 'deleting') return void this.finish(tenant, 'archived', 'succeeded');
    if (phase === 'provisioning' || phase === 'updating') {
      if (faults.hang) return;
      return void this.finish(
        tenant,
        faults.nonRetriable ? 'failed' : 'ready',
        faults.nonRetriable ? 'failed' : 'succeeded',
      );
    }
    if (
      observedGeneration < tenant.generation &&
      (phase === 'ready' || (phase === 'failed' && this.specChangedSinceFailure(tenant)))
    ) {
      this.next(this.startWork(tenant, observedGeneration === 0 ? 'provisioning' : 'updating', ''));
    }
  }

  private specChangedSinceFailure(tenant: Tenant): boolean {
    const runGeneration = /:g(\d+)/.exec(tenant.status.workflow?.runId ?? '')?.[1];
    return runGeneration !== undefined && Number(runGeneration) < tenant.generation;
  }

  private next(tenant: Tenant): void {
    this.schedule(tenant.id);
  }

  private startWork(tenant: Tenant, to: Phase, suffix: string): Tenant {
    const action = to === 'provisioning' ? 'provision' : to === 'updating' ? 'update' : 'delete';
    const runId = `${tenant.id}:${action}:g${tenant.generation}${suffix}`;
    const executionId = `x-${tenant.id.slice(0, 8)}-${action}-g${tenant.generation}${suffix}`;
    this.records.start(tenant, executionId, runId, action);
    const moved = this.transition(tenant, to, `compute ${action} running`);
    return this.save({
      ...moved,
      status: {
        ...moved.status,
        compute: { executionId, operation: action, status: 'running' },
        workflow: { runId, action, state: 'running', attempt: 1 },
      },
    });
  }

  private finish(tenant: Tenant, to: Phase, outcome: 'succeeded' | 'failed'): Tenant {
    const compute = tenant.status.compute ? { ...tenant.status.compute, status: outcome } : null;
    const lastError =
      outcome === 'failed'
        ? {
            code: 'IMAGE_UNAVAILABLE' as const,
            message: 'image not found in the fake registry',
            classification: 'non_retriable' as const,
          }
        : null;
    const ok = to === 'ready';
    const status = {
      ...tenant.status,
      compute,
      lastError,
      workflow: tenant.status.workflow && { ...tenant.status.workflow, state: outcome },
      observedGeneration: ok ? tenant.generation : tenant.status.observedGeneration,
      endpoints: ok
        ? [{ name: 'http', url: `http://127.0.0.1:${40000 + (tenant.name.length % 1000)}` }]
        : to === 'archived'
          ? []
          : tenant.status.endpoints,
    };
    if (compute) this.records.finish(compute.executionId, outcome, lastError);
    const moved = this.transition(
      { ...tenant, status },
      to,
      ok ? 'runtime ready' : outcome === 'failed' ? (lastError?.message ?? 'failed') : 'runtime removed',
    );
    if (to === 'ready' && moved.generation > moved.status.observedGeneration) this.schedule(moved.id);
    return moved;
  }

  private transition(tenant: Tenant, to: Phase, message: string): Tenant {
    const from = tenant.status.phase;
    const saved = this.save({ ...tenant, status: { ...tenant.status, phase: to, message } });
    this.record(saved, 'PhaseChanged', from, to, message);
    return saved;
  }

  private save(tenant: Tenant): Tenant {
    const saved = { ...tenant, version: tenant.version + 1, updatedAt: new Date().toISOString() };
    this.tenants.set(saved.id, saved);
    return saved;
  }

  private record(
    tenant: Tenant,
    type: string,
    fromPhase: Phase | null,
    toPhase: Phase | null,
    message = '',
  ): void {
    const event: TenantEvent = {
      seq: this.events.length + 1,
      tenantId: tenant.id,
      at: new Date().toISOString(),
      type,
      actor: 'fake',
      reason: type,
      message,
      fromPhase,
      toPhase,
      generation: tenant.generation,
      runId: tenant.status.workflow?.runId ?? null,
      executionId: tenant.status.compute?.executionId ?? null,
    };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  private schedule(id: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.reconcile(id);
    }, this.stepMs);
    this.timers.add(timer);
  }
}
