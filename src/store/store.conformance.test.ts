/**
 * The store conformance suite: the same cases against every backend (SQLite file, PostgreSQL
 * database), test names prefixed `[sqlite]` / `[postgres]`. One database per group: cases that
 * read a global queue (run and execution leases, the callback outbox) get a group of their own.
 * LESSOR_TEST_BACKENDS=sqlite (or postgres) narrows the backends.
 */
import { auditRecords } from './conformance/audit-records.js';
import { changeSignal } from './conformance/change-signal.js';
import { callbackOutbox } from './conformance/delivery.js';
import { retention } from './conformance/retention.js';
import { rollouts } from './conformance/rollouts.js';
import { computeExecutionLeases, computeExecutions } from './conformance/compute-executions.js';
import { runGroup } from './conformance/harness.js';
import { schemaAndStream } from './conformance/schema-and-stream.js';
import { plans, tenantRevisions } from './conformance/revisions-and-plans.js';
import { secretsAtRest } from './conformance/secrets-at-rest.js';
import { storeStats } from './conformance/stats.js';
import { tenantBasics } from './conformance/tenant-basics.js';
import { tenantChanges } from './conformance/tenant-changes.js';
import { tenantCounts } from './conformance/tenant-counts.js';
import { tenantListing } from './conformance/tenant-listing.js';
import { tenantViews } from './conformance/tenant-views.js';
import { heldJournals } from './conformance/held-journal.js';
import { workflowRunLeases, workflowRuns } from './conformance/workflow-runs.js';
import { backends } from './testing/test-databases.js';
import { webhookOutbox } from './conformance/webhooks.js';

for (const backend of backends()) {
  runGroup(backend, 'records', {
    'schema and event stream': schemaAndStream,
    tenants: tenantBasics,
    'tenant changes': tenantChanges,
    'tenant listing': tenantListing,
    'tenant counts': tenantCounts,
    'workflow runs and steps': workflowRuns,
    'held journal entries': heldJournals,
    'compute executions': computeExecutions,
  });
  runGroup(backend, 'leases', {
    'workflow run leases': workflowRunLeases,
    'compute execution leases': computeExecutionLeases,
  });
  runGroup(backend, 'delivery', { 'callbacks and idempotency': callbackOutbox });
  runGroup(backend, 'audit', { 'audit trail': auditRecords });
  runGroup(backend, 'change signal', { 'change signal': changeSignal });
  runGroup(backend, 'retention', { 'retention sweeps': retention });
  runGroup(backend, 'secrets', { 'secrets at rest': secretsAtRest });
  runGroup(backend, 'tenant views', { 'tenant views': tenantViews });
  runGroup(backend, 'webhooks', { 'webhook outbox': webhookOutbox });
  runGroup(backend, 'revisions and plans', { 'tenant revisions': tenantRevisions, plans });
  runGroup(backend, 'rollouts', { rollouts });
  runGroup(backend, 'stats', { 'fleet counts': storeStats });
}
