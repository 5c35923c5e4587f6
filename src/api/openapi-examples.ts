/**
 * Examples of the main wire schemas, added to the OpenAPI components by name (JSON Schema
 * `examples`). One story throughout: the docker tenant `acme`, provisioned once. Each example is
 * typed as its wire type, so the compiler catches a field that changed; openapi.test.ts validates
 * every one against its published schema. Documentation only: the server never reads them.
 */
import type { z } from 'zod';
import { planSchemaExamples } from './openapi-examples-plans.js';
import type { AuditRecordSchema } from './schemas-resources.js';
import type { WebhookDeliverySchema, WebhookSchema } from './schemas-webhooks.js';
import type {
  Callback,
  ComputeExecution,
  ComputeExecutionWithHistory,
  CreateRolloutRequest,
  CreateTenantRequest,
  Problem,
  Rollout,
  ReplaceSpecRequest,
  Tenant,
  TenantEvent,
  TenantList,
  TenantPatch,
  TenantSummary,
  WhoAmI,
  WorkflowRun,
} from './types.js';

const TENANT_ID = '01938f2e-5b7c-7d10-8a3e-2f6b9c1d4e5a';
const RUN_ID = `${TENANT_ID}:provision:g1`;
const EXECUTION_ID = `ex-${TENANT_ID}-provision-g1-4f9c2a7e1b3d5c60`;
const CONFIG_HASH = '9b1f4c7a2e6d8053';
const RESOURCES = { containerId: '3f6e1a9c0b2d', containerName: 'lessor-acme' };
const ENDPOINTS = [{ name: 'web', url: 'http://127.0.0.1:32768' }];
const CONFIG = {
  image: 'registry.example.com/acme/app:1.4.2',
  env: { MODE: 'prod' },
  secretEnv: { DB_PASSWORD: 's3cret-value' },
  ports: [{ containerPort: 8080, name: 'web' }],
};

const createRequest: CreateTenantRequest = {
  name: 'acme',
  spec: { provider: 'docker', config: CONFIG, labels: { plan: 'pro' } },
};

const replaceRequest: ReplaceSpecRequest = {
  spec: { config: { ...CONFIG, secretEnv: { DB_PASSWORD: '***' }, env: { MODE: 'debug' } }, labels: {} },
};

const patch: TenantPatch = { spec: { config: { env: { MODE: 'debug', OLD_FLAG: null } }, paused: false } };

const at = (ms: number): string => new Date(Date.UTC(2026, 0, 15, 9, 30, 0, ms)).toISOString();

const tenant: Tenant = {
  id: TENANT_ID,
  name: 'acme',
  spec: {
    provider: 'docker',
    plan: null,
    config: { ...CONFIG, secretEnv: { DB_PASSWORD: '***' } },
    labels: { plan: 'pro' },
    annotations: {},
    retryPolicy: null,
    paused: false,
    suspended: false,
  },
  generation: 1,
  status: {
    phase: 'ready',
    observedGeneration: 1,
    message: 'runtime matches generation 1',
    compute: { executionId: EXECUTION_ID, operation: 'provision', status: 'succeeded' },
    workflow: { runId: RUN_ID, action: 'provision', state: 'succeeded', attempt: 1 },
    resources: RESOURCES,
    endpoints: ENDPOINTS,
    lastError: null,
    effectiveConfigHash: CONFIG_HASH,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'RuntimeReady',
        message: '',
        lastTransitionTime: at(840),
        observedGeneration: 1,
      },
    ],
  },
  version: 4,
  createdAt: at(0),
  updatedAt: at(840),
};

const problem: Problem = {
  type: 'urn:lessor:problem:precondition-failed',
  title: 'Precondition failed',
  status: 412,
  detail: 'version 3 is stale; current version is 4',
  code: 'PRECONDITION_FAILED',
  instance: '/v1/tenants/acme',
  requestId: '5e7c752a-5dd8-41f7-b46b-ed444f849db0',
};

const validationProblem: Problem = {
  type: 'urn:lessor:problem:validation-failed',
  title: 'Request validation failed',
  status: 400,
  detail: 'name: must be a DNS label: 1-63 of a-z, 0-9 and -, starting and ending with a letter or digit',
  code: 'VALIDATION_FAILED',
  instance: '/v1/tenants',
  requestId: 'b898bf9d-3c49-43ae-9a0b-9eb85e4913ba',
  errors: [
    {
      path: 'name',
      message: 'must be a DNS label: 1-63 of a-z, 0-9 and -, starting and ending with a letter or digit',
    },
  ],
};

const event: TenantEvent = {
  seq: 2,
  tenantId: TENANT_ID,
  at: at(20),
  type: 'PhaseChanged',
  actor: `workflow:${RUN_ID}`,
  reason: 'ProvisionStarted',
  message: 'provision run started',
  fromPhase: 'requested',
  toPhase: 'provisioning',
  generation: 1,
  runId: RUN_ID,
  executionId: null,
};

const execution: ComputeExecution = {
  executionId: EXECUTION_ID,
  tenantId: TENANT_ID,
  workflowRunId: RUN_ID,
  operation: 'provision',
  provider: 'docker',
  status: 'succeeded',
  attempt: 1,
  timeoutMs: 120000,
  generation: 1,
  configHash: CONFIG_HASH,
  resources: RESOURCES,
  endpoints: ENDPOINTS,
  partial: null,
  error: null,
  createdAt: at(40),
  startedAt: at(41),
  finishedAt: at(790),
};

const executionWithHistory: ComputeExecutionWithHistory = {
  ...execution,
  history: [
    { seq: 1, status: 'pending', attempt: 1, at: at(40), details: {} },
    { seq: 2, status: 'running', attempt: 1, at: at(41), details: {} },
    { seq: 3, status: 'succeeded', attempt: 1, at: at(790), details: { durationMs: 749 } },
  ],
};

const run: WorkflowRun = {
  runId: RUN_ID,
  tenantId: TENANT_ID,
  action: 'provision',
  engine: 'embedded',
  state: 'succeeded',
  attempt: 1,
  triggerSource: 'api',
  generation: 1,
  configHash: CONFIG_HASH,
  input: { tenantId: TENANT_ID, generation: 1 },
  output: { result: 'ready', generation: 1, executionId: EXECUTION_ID },
  error: null,
  createdAt: at(10),
  updatedAt: at(840),
  finishedAt: at(840),
  steps: [
    {
      seq: 1,
      name: 'compute:provision#1',
      kind: 'step',
      status: 'completed',
      result: { executionId: EXECUTION_ID, status: 'running', attempt: 1, generation: 1 },
      error: null,
      startedAt: at(30),
      finishedAt: at(42),
      durationMs: 12,
    },
  ],
};

const callback: Callback = {
  id: '01938f2e-5e41-7a02-b6c4-0d8e2f1a3b57',
  executionId: EXECUTION_ID,
  workflowRunId: RUN_ID,
  tenantId: TENANT_ID,
  payload: {
    executionId: EXECUTION_ID,
    tenantId: TENANT_ID,
    workflowRunId: RUN_ID,
    operation: 'provision',
    status: 'succeeded',
    resources: RESOURCES,
    error: null,
    attempt: 1,
    at: at(790),
  },
  state: 'dead',
  attempts: 8,
  nextAttemptAt: Date.parse(at(790)),
  lastError: 'workflow engine unavailable: connect ECONNREFUSED 127.0.0.1:8081',
  createdAt: at(790),
  deliveredAt: null,
};

const auditRecord: z.output<typeof AuditRecordSchema> = {
  id: '01939a11-0c2d-7e3f-9a4b-5c6d7e8f9a0b',
  at: '2026-02-01T12:00:00.000Z',
  actor: 'api:admin-bot',
  action: 'tenant.purge',
  targetId: TENANT_ID,
  targetName: 'acme',
  details: {
    provider: 'docker',
    labels: { plan: 'pro' },
    generation: 2,
    createdAt: at(0),
    archivedAt: '2026-01-20T08:00:00.000Z',
  },
};

const list: TenantList = {
  items: [tenant],
  nextCursor: 'WyIwMTkzOGYyZS01YjdjLTdkMTAtOGEzZS0yZjZiOWMxZDRlNWEiXQ',
};

const WEBHOOK_ID = '01938f30-1a2b-7c3d-8e4f-5a6b7c8d9e0f';

const webhook: z.output<typeof WebhookSchema> = {
  id: WEBHOOK_ID,
  url: 'https://signup.example.com/hooks/lessor',
  description: 'welcome e-mails',
  events: ['tenant.ready', 'tenant.deleted'],
  enabled: true,
  disabledReason: null,
  previousSecretExpiresAt: null,
  createdAt: at(0),
  updatedAt: at(0),
};

const webhookDelivery: z.output<typeof WebhookDeliverySchema> = {
  id: 'msg_01938f2e5f017a02b6c40d8e2f1a3b58',
  webhookId: WEBHOOK_ID,
  eventType: 'tenant.ready',
  status: 'delivered',
  attempts: 2,
  nextAttemptAt: null,
  windowStart: at(800),
  lastStatusCode: 204,
  lastError: null,
  createdAt: at(800),
  deliveredAt: at(806),
  attemptLog: [
    { attempt: 1, startedAt: at(800), durationMs: 31, statusCode: 503, error: 'the endpoint answered 503' },
    { attempt: 2, startedAt: at(806), durationMs: 12, statusCode: 204, error: null },
  ],
};

const whoAmI: WhoAmI = {
  name: 'ops-bot',
  role: 'operator',
  authenticated: true,
  authRequired: true,
  grants: ['read', 'write'],
};

const summary: TenantSummary = {
  total: 1287,
  phases: {
    requested: 2,
    provisioning: 5,
    ready: 1262,
    updating: 3,
    deleting: 1,
    archived: 310,
    failed: 14,
    suspended: 0,
  },
};

/** Component name → its examples. */
const createRollout: CreateRolloutRequest = {
  description: 'image 1.5.0 to pro',
  selector: { labels: 'plan=pro' },
  change: { patch: { config: { image: 'registry.example.com/acme/app:1.5.0' } } },
  strategy: { waves: [1, '10%', '100%'], maxParallel: 50, minHealthyMs: 10_000, progressDeadlineMs: 600_000 },
  failurePolicy: { maxFailedPercent: 5, onHalt: 'rollback' },
};

const rollout: Rollout = {
  id: '01938f40-1a2b-7c3d-9e4f-5a6b7c8d9e0f',
  description: 'image 1.5.0 to pro',
  selector: { labels: 'plan=pro', names: null, phases: null },
  change: { patch: { config: { image: 'registry.example.com/acme/app:1.5.0' } } },
  strategy: {
    waves: [1, '10%', '100%'],
    maxParallel: 50,
    minHealthyMs: 10_000,
    progressDeadlineMs: 600_000,
    pauseAfterWaves: [],
  },
  failurePolicy: { maxFailedPercent: 5, maxFailed: null, onHalt: 'rollback' },
  status: {
    phase: 'running',
    currentWave: 1,
    haltReason: null,
    counts: { total: 120, pending: 108, inProgress: 10, succeeded: 2, failed: 0, skipped: 0, rolledBack: 0 },
    waves: [
      {
        index: 0,
        size: 1,
        pending: 0,
        inProgress: 0,
        succeeded: 1,
        failed: 0,
        skipped: 0,
        rolledBack: 0,
        startedAt: '2026-12-03T09:00:00.000Z',
        finishedAt: '2026-12-03T09:00:12.000Z',
      },
      {
        index: 1,
        size: 11,
        pending: 0,
        inProgress: 10,
        succeeded: 1,
        failed: 0,
        skipped: 0,
        rolledBack: 0,
        startedAt: '2026-12-03T09:00:12.100Z',
        finishedAt: null,
      },
      {
        index: 2,
        size: 108,
        pending: 108,
        inProgress: 0,
        succeeded: 0,
        failed: 0,
        skipped: 0,
        rolledBack: 0,
        startedAt: null,
        finishedAt: null,
      },
    ],
  },
  createdBy: 'api:ci',
  createdAt: '2026-12-03T09:00:00.000Z',
  updatedAt: '2026-12-03T09:00:12.100Z',
};

export const SCHEMA_EXAMPLES: Readonly<Record<string, readonly unknown[]>> = {
  CreateTenantRequest: [createRequest],
  ReplaceSpecRequest: [replaceRequest],
  TenantPatch: [patch],
  Tenant: [tenant],
  TenantList: [list],
  Problem: [problem, validationProblem],
  TenantEvent: [event],
  ComputeExecution: [execution],
  ComputeExecutionWithHistory: [executionWithHistory],
  WorkflowRun: [run],
  Callback: [callback],
  AuditRecord: [auditRecord],
  CreateWebhookRequest: [
    { url: webhook.url, events: webhook.events, description: webhook.description, enabled: true },
  ],
  Webhook: [webhook],
  WebhookWithSecret: [{ ...webhook, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
  WebhookDelivery: [webhookDelivery],
  CreateRolloutRequest: [createRollout],
  Rollout: [rollout],
  WhoAmI: [whoAmI],
  TenantSummary: [summary],
  ...planSchemaExamples(tenant),
};
