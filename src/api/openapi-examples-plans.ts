/**
 * Examples of the plan, revision, diff, dry-run and rollback schemas, continuing the story of
 * openapi-examples.ts: the `pro` plan at revision 2, and the docker tenant `acme` (made from it)
 * whose `MODE` went from `prod` to `debug` and back. Typed as their wire types; openapi.test.ts
 * validates each against its published schema.
 */
import type { z } from 'zod';
import type { PlanRefRequestSchema } from './schemas.js';
import type { RollbackRequestSchema } from './schemas-plans.js';
import type {
  CreatePlanRequest,
  DryRunTenant,
  PatchOperation,
  Plan,
  PlanList,
  PlanRevision,
  PlanRevisionList,
  ReplacePlanRequest,
  SpecDiff,
  Tenant,
  TenantRevision,
  TenantRevisionList,
} from './types.js';

const IMAGE_1 = 'registry.example.com/acme/app:1.4.2';
const IMAGE_2 = 'registry.example.com/acme/app:1.5.0';
const PLAN_CONFIG = {
  image: IMAGE_1,
  env: { MODE: 'prod', LOG_LEVEL: 'info' },
  resources: { cpus: 1, memoryMb: 512 },
  ports: [{ containerPort: 8080, name: 'web' }],
};
const ALLOWED = ['/env', '/secretEnv', '/resources/memoryMb'];

const createPlan: CreatePlanRequest = {
  name: 'pro',
  description: 'Pro tier',
  spec: { provider: 'docker', config: PLAN_CONFIG },
  allowedOverrides: ALLOWED,
};

const replacePlan: ReplacePlanRequest = {
  description: 'Pro tier',
  spec: { provider: 'docker', config: { ...PLAN_CONFIG, image: IMAGE_2 } },
  allowedOverrides: ALLOWED,
};

const plan: Plan = {
  name: 'pro',
  description: 'Pro tier',
  revision: 2,
  spec: { provider: 'docker', config: { ...PLAN_CONFIG, image: IMAGE_2 }, retryPolicy: null },
  allowedOverrides: ALLOWED,
  createdAt: '2026-01-10T08:00:00.000Z',
  updatedAt: '2026-01-14T16:20:00.000Z',
};

const planRevision1: PlanRevision = {
  name: 'pro',
  revision: 1,
  description: 'Pro tier',
  spec: { provider: 'docker', config: PLAN_CONFIG, retryPolicy: null },
  allowedOverrides: ALLOWED,
  actor: 'api:platform-admin',
  createdAt: '2026-01-10T08:00:00.000Z',
};

const planRevision2: PlanRevision = {
  ...planRevision1,
  revision: 2,
  spec: plan.spec,
  createdAt: '2026-01-14T16:20:00.000Z',
};

const planList: PlanList = { items: [plan], nextCursor: null };
const planRevisionList: PlanRevisionList = { items: [planRevision2, planRevision1], nextCursor: null };

const planRef: z.input<typeof PlanRefRequestSchema> = { name: 'pro', revision: 1 };

const modeChange: PatchOperation = { op: 'replace', path: '/config/env/MODE', value: 'debug' };
const secretChange: PatchOperation = { op: 'replace', path: '/config/secretEnv/DB_PASSWORD', value: '***' };

const rollback: z.input<typeof RollbackRequestSchema> = { toGeneration: 1 };

/** The examples by component name, built on the tenant example of openapi-examples.ts. */
export function planSchemaExamples(tenant: Tenant): Readonly<Record<string, readonly unknown[]>> {
  const fromPlan: Tenant['spec'] = {
    ...tenant.spec,
    plan: { name: 'pro', revision: 1 },
    config: { env: { MODE: 'prod' }, secretEnv: { DB_PASSWORD: '***' } },
  };
  const revision = (generation: number, mode: string, actor: string, at: string): TenantRevision => ({
    generation,
    spec: { ...fromPlan, config: { ...fromPlan.config, env: { MODE: mode } } },
    actor,
    createdAt: at,
  });
  const revisions: TenantRevisionList = {
    items: [
      revision(3, 'prod', 'api:on-call', '2026-01-15T11:05:00.000Z'),
      revision(2, 'debug', 'api:on-call', '2026-01-15T10:40:00.000Z'),
      revision(1, 'prod', 'api:signup-service', '2026-01-15T09:30:00.000Z'),
    ],
    nextCursor: null,
  };
  const diff: SpecDiff = { from: 1, to: 2, patch: [modeChange] };
  const dryRun: DryRunTenant = {
    ...tenant,
    spec: { ...fromPlan, config: { ...fromPlan.config, env: { MODE: 'debug' } } },
    generation: 2,
    status: { ...tenant.status, phase: 'updating', message: 'spec changed, generation 2' },
    version: tenant.version + 1,
    diff: [modeChange],
  };
  return {
    CreatePlanRequest: [createPlan],
    ReplacePlanRequest: [replacePlan],
    Plan: [plan],
    PlanList: [planList],
    PlanRevision: [planRevision1],
    PlanRevisionList: [planRevisionList],
    PlanRefRequest: [planRef, { name: 'pro' }],
    PatchOperation: [modeChange, secretChange],
    TenantRevision: [revisions.items[2]],
    TenantRevisionList: [revisions],
    SpecDiff: [diff],
    DryRunTenant: [dryRun],
    RollbackRequest: [rollback],
  };
}
