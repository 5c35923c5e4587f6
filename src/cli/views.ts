/** Table columns of each resource the CLI shows (`-o table`); JSON and YAML show the wire objects. */
import type {
  Callback,
  ComputeExecution,
  ComputeExecutionWithHistory,
  Plan,
  PlanRevision,
  ProviderList,
  Tenant,
  TenantEvent,
  TenantRevision,
  WorkflowRun,
} from '../api/types.js';
import { age, dash, type Column } from './output.js';

type Provider = ProviderList['items'][number];
type HistoryEntry = ComputeExecutionWithHistory['history'][number];
type Step = WorkflowRun['steps'][number];

export function computeSummary(tenant: Tenant): string {
  const compute = tenant.status.compute;
  return compute ? `${compute.operation}/${compute.status}` : '-';
}

export function generationSummary(tenant: Tenant): string {
  return `${tenant.status.observedGeneration}/${tenant.generation}`;
}

export const TENANT_COLUMNS: readonly Column<Tenant>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'PHASE', value: (t) => t.status.phase + (t.spec.paused ? ' (paused)' : '') },
  { header: 'COMPUTE', value: computeSummary },
  { header: 'GEN', value: generationSummary },
  { header: 'PROVIDER', value: (t) => t.spec.provider },
  { header: 'ENDPOINT', value: (t) => dash(t.status.endpoints[0]?.url) },
  { header: 'AGE', value: (t) => age(t.createdAt) },
];

/** Column widths of tenant rows printed one at a time (--watch). */
export const TENANT_STREAM_WIDTHS = [16, 12, 19, 5, 8, 22, 4];

/** Event history: oldest first, like `kubectl get events`. */
export const REVISION_COLUMNS: readonly Column<TenantRevision>[] = [
  { header: 'GEN', value: (r) => String(r.generation) },
  { header: 'AGE', value: (r) => age(r.createdAt) },
  { header: 'ACTOR', value: (r) => r.actor },
  { header: 'PLAN', value: (r) => (r.spec.plan ? `${r.spec.plan.name}@${r.spec.plan.revision}` : '-') },
];

export const PLAN_COLUMNS: readonly Column<Plan>[] = [
  { header: 'NAME', value: (p) => p.name },
  { header: 'REVISION', value: (p) => String(p.revision) },
  { header: 'PROVIDER', value: (p) => p.spec.provider },
  { header: 'OVERRIDES', value: (p) => dash(p.allowedOverrides.join(',')) },
  { header: 'DESCRIPTION', value: (p) => dash(p.description) },
  { header: 'AGE', value: (p) => age(p.createdAt) },
];

export const PLAN_REVISION_COLUMNS: readonly Column<PlanRevision>[] = [
  { header: 'REV', value: (r) => String(r.revision) },
  { header: 'AGE', value: (r) => age(r.createdAt) },
  { header: 'ACTOR', value: (r) => r.actor },
  { header: 'PROVIDER', value: (r) => r.spec.provider },
  { header: 'DESCRIPTION', value: (r) => dash(r.description) },
];

export const EVENT_COLUMNS: readonly Column<TenantEvent>[] = [
  { header: 'SEQ', value: (e) => String(e.seq) },
  { header: 'AGE', value: (e) => age(e.at) },
  { header: 'TYPE', value: (e) => e.type },
  {
    header: 'TRANSITION',
    value: (e) => (e.fromPhase || e.toPhase ? `${dash(e.fromPhase)} -> ${dash(e.toPhase)}` : '-'),
  },
  { header: 'GEN', value: (e) => String(e.generation) },
  { header: 'ACTOR', value: (e) => e.actor },
  { header: 'MESSAGE', value: (e) => dash(e.message) },
];

/** The stream of `lessor events`: the tenant id instead of the age (widths for one-at-a-time rows). */
export const STREAM_EVENT_WIDTHS = [5, 24, 36, 22, 27, 3, 10, 0];
export const STREAM_EVENT_COLUMNS: readonly Column<TenantEvent>[] = [
  { header: 'SEQ', value: (e) => String(e.seq) },
  { header: 'TIME', value: (e) => e.at },
  { header: 'TENANT', value: (e) => e.tenantId ?? '-' },
  ...EVENT_COLUMNS.slice(2),
];

export const EXECUTION_COLUMNS: readonly Column<ComputeExecution>[] = [
  { header: 'EXECUTION', value: (x) => x.executionId },
  { header: 'OPERATION', value: (x) => x.operation },
  { header: 'STATUS', value: (x) => x.status },
  { header: 'ATTEMPT', value: (x) => String(x.attempt) },
  { header: 'GEN', value: (x) => String(x.generation) },
  { header: 'PROVIDER', value: (x) => x.provider },
  { header: 'ERROR', value: (x) => (x.error ? `${x.error.code}: ${x.error.message}` : '-') },
  { header: 'AGE', value: (x) => age(x.createdAt) },
];

export const HISTORY_COLUMNS: readonly Column<HistoryEntry>[] = [
  { header: 'SEQ', value: (h) => String(h.seq) },
  { header: 'AT', value: (h) => h.at },
  { header: 'STATUS', value: (h) => h.status },
  { header: 'ATTEMPT', value: (h) => String(h.attempt) },
  {
    header: 'DETAILS',
    value: (h) => (Object.keys(h.details).length === 0 ? '-' : JSON.stringify(h.details)),
  },
];

export const RUN_COLUMNS: readonly Column<WorkflowRun>[] = [
  { header: 'RUN', value: (r) => r.runId },
  { header: 'ACTION', value: (r) => r.action },
  { header: 'STATE', value: (r) => r.state },
  { header: 'ATTEMPT', value: (r) => String(r.attempt) },
  { header: 'GEN', value: (r) => String(r.generation) },
  { header: 'ENGINE', value: (r) => r.engine },
  { header: 'TRIGGER', value: (r) => r.triggerSource },
  { header: 'AGE', value: (r) => age(r.createdAt) },
];

export const STEP_COLUMNS: readonly Column<Step>[] = [
  { header: 'SEQ', value: (s) => String(s.seq) },
  { header: 'STEP', value: (s) => s.name },
  { header: 'KIND', value: (s) => s.kind },
  { header: 'STATUS', value: (s) => s.status },
  { header: 'DURATION', value: (s) => (s.durationMs === null ? '-' : `${s.durationMs}ms`) },
  { header: 'STARTED', value: (s) => s.startedAt },
];

export const PROVIDER_COLUMNS: readonly Column<Provider>[] = [
  { header: 'TYPE', value: (p) => p.type },
  { header: 'DEFAULT', value: (p) => (p.default ? 'yes' : '') },
  { header: 'TIMEOUT', value: (p) => `${p.timeoutMs}ms` },
  {
    header: 'DEFAULTS',
    value: (p) => (Object.keys(p.defaults).length === 0 ? '-' : JSON.stringify(p.defaults)),
  },
  { header: 'SCHEMA', value: (p) => p.schemaUrl },
];

export const CALLBACK_COLUMNS: readonly Column<Callback>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'STATE', value: (c) => c.state },
  { header: 'OPERATION', value: (c) => `${c.payload.operation}/${c.payload.status}` },
  { header: 'EXECUTION', value: (c) => c.executionId },
  { header: 'ATTEMPTS', value: (c) => String(c.attempts) },
  { header: 'LAST ERROR', value: (c) => dash(c.lastError) },
  { header: 'AGE', value: (c) => age(c.createdAt) },
];
