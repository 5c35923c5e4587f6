/**
 * A tenant's run as the controller and the API see it, read from a generic workflow run: the
 * definition is the action (`provision`, `update`, `delete`, `suspend`, `resume`), and the tags carry the rest —
 * `subject` = `tenant:<id>`, `generation`, `configHash` and `trigger`. The workflow engines never
 * read these tags; they store them as given.
 */
import { COMPUTE_OPERATIONS, type WorkflowAction } from './operations.js';
import { SUBJECT_TAG, type RunTags, type TriggerSource, type WorkflowRun } from './workflow-run.js';

/** What a tenant run's `subject` tag starts with. */
export const TENANT_SUBJECT_PREFIX = 'tenant:';

const ACTIONS: ReadonlySet<string> = new Set<WorkflowAction>(COMPUTE_OPERATIONS);
const TRIGGERS: ReadonlySet<string> = new Set<TriggerSource>(['api', 'controller', 'retry']);

export interface TenantRun extends WorkflowRun {
  readonly tenantId: string;
  readonly action: WorkflowAction;
  readonly generation: number;
  readonly configHash: string;
  readonly triggerSource: TriggerSource;
}

export interface TenantRunTags {
  readonly tenantId: string;
  readonly generation: number;
  readonly configHash: string;
  readonly triggerSource: TriggerSource;
}

/** The `subject` tag of the tenant's runs. */
export function tenantSubject(tenantId: string): string {
  return `${TENANT_SUBJECT_PREFIX}${tenantId}`;
}

export function tenantRunTags(run: TenantRunTags): RunTags {
  return {
    [SUBJECT_TAG]: tenantSubject(run.tenantId),
    generation: String(run.generation),
    configHash: run.configHash,
    trigger: run.triggerSource,
  };
}

/** The run as a tenant run, or null when it is not one (another subject, another definition). */
export function asTenantRun(run: WorkflowRun): TenantRun | null {
  const subject = run.tags[SUBJECT_TAG];
  if (subject === undefined || !subject.startsWith(TENANT_SUBJECT_PREFIX)) return null;
  if (!ACTIONS.has(run.workflow)) return null;
  const trigger = run.tags.trigger ?? 'controller';
  return {
    ...run,
    tenantId: subject.slice(TENANT_SUBJECT_PREFIX.length),
    action: run.workflow as WorkflowAction,
    generation: Number(run.tags.generation ?? 0),
    configHash: run.tags.configHash ?? '',
    triggerSource: TRIGGERS.has(trigger) ? (trigger as TriggerSource) : 'controller',
  };
}

/** The tenant runs among `runs`, in their order. */
export function tenantRunsOf(runs: readonly WorkflowRun[]): TenantRun[] {
  return runs.map(asTenantRun).filter((run): run is TenantRun => run !== null);
}
