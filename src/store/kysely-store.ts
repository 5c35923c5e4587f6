/**
 * Assembles the `Store` from a Kysely instance: the repositories, event appends, readiness ping and
 * write probe, migrations and shutdown. Engine bindings (sqlite/, postgres/) build the Kysely
 * instance; nothing here knows which driver is underneath.
 */
import { sql, type Kysely } from 'kysely';
import { StoreUnavailableError, UnavailableError } from '../domain/errors.js';
import type { TenantEvent } from '../domain/tenant-event.js';
import { KyselyAuditRepository } from './audit-repository.js';
import { KyselyCallbackRepository } from './callback-repository.js';
import { nowIso } from './codec.js';
import { KyselyComputeExecutionRepository } from './compute-execution-repository.js';
import { ChangeSignal } from './change-signal.js';
import { singleStatement, type ReadNow, type StoreContext } from './context.js';
import type { SqlDialect } from './dialect.js';
import { insertEvents, KyselyTenantEventRepository } from './event-repository.js';
import { KyselyIdempotencyKeyRepository } from './idempotency-key-repository.js';
import { migrateToLatest, migrationStatus } from './migrations/index.js';
import { KyselyRetentionRepository } from './retention-repository.js';
import { KyselyRolloutRepository } from './rollout-repository.js';
import type { Database } from './schema.js';
import { specCodec, type SecretsAtRest } from './sealed-specs.js';
import { resealSecrets } from './secret-reseal.js';
import { KyselyServerSecretRepository } from './server-secret-repository.js';
import { KyselyStoreStatsRepository } from './stats-repository.js';
import type { ConnectionPoolStats, Store } from './store.js';
import type { StoreIncidents } from './store-incidents.js';
import { KyselyPlanRepository } from './plan-repository.js';
import { KyselyTenantRepository } from './tenant-repository.js';
import { KyselyTenantRevisionRepository } from './tenant-revision-repository.js';
import { KyselyWorkflowRunRepository } from './workflow-run-repository.js';
import { KyselyWorkflowStepRepository } from './workflow-step-repository.js';
import { KyselyWebhookRepository } from './webhook-repository.js';

export interface KyselyStoreOptions {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** The incident log the binding's error mapping reports to; `probeWrite` tells it of successes. */
  readonly incidents: StoreIncidents;
  /** Secret values at rest: sealed with this key ring; absent, nothing is sealed. */
  readonly secrets?: SecretsAtRest | undefined;
  /** The binding's connection pool, when it has one (for `stats.connectionPool`). */
  readonly poolStats?: () => ConnectionPoolStats;
  /** The binding's immediate read, when it has one (`StoreContext.readNow`). */
  readonly readNow?: ReadNow;
}

export function createKyselyStore(options: KyselyStoreOptions): Store {
  const { secrets, incidents } = options;
  const ctx: StoreContext = {
    db: options.db,
    dialect: options.dialect,
    specs: specCodec(secrets),
    planSpecs: specCodec(secrets, 'plan'),
    secrets,
    changes: new ChangeSignal(),
    readNow: options.readNow,
  };
  const probeWrite = async (): Promise<void> => {
    await writeProbe(ctx);
    const waitMs = incidents.probeSucceeded();
    if (waitMs > 0) {
      throw new StoreUnavailableError(
        `a storage incident is open: ready once writes succeed for ${waitMs} ms more`,
      );
    }
  };
  incidents.useProbe(probeWrite);
  let closed: Promise<void> | undefined;
  return {
    dialect: ctx.dialect.name,
    changes: ctx.changes,
    stats: new KyselyStoreStatsRepository(ctx, options.poolStats),
    tenants: new KyselyTenantRepository(ctx),
    revisions: new KyselyTenantRevisionRepository(ctx),
    plans: new KyselyPlanRepository(ctx),
    events: new KyselyTenantEventRepository(ctx),
    runs: new KyselyWorkflowRunRepository(ctx),
    steps: new KyselyWorkflowStepRepository(ctx),
    executions: new KyselyComputeExecutionRepository(ctx),
    callbacks: new KyselyCallbackRepository(ctx),
    idempotency: new KyselyIdempotencyKeyRepository(ctx),
    audit: new KyselyAuditRepository(ctx),
    retention: new KyselyRetentionRepository(ctx),
    serverSecrets: new KyselyServerSecretRepository(ctx),
    webhooks: new KyselyWebhookRepository(ctx),
    rollouts: new KyselyRolloutRepository(ctx),
    resealSecrets: (options) => resealSecrets(ctx, options),
    appendEvent: (tenantId, event) => appendEvent(ctx, tenantId, event),
    ping: () => ping(ctx),
    probeWrite,
    // Before anything is served: its caller reports a database it cannot reach (no incident).
    migrate: () => incidents.leftToCaller(() => migrateToLatest(ctx.db, ctx.dialect)),
    migrationStatus: () => incidents.leftToCaller(() => migrationStatus(ctx.db, ctx.dialect)),
    /** Idempotent: a second call waits for the first. */
    close: () => {
      incidents.close();
      closed ??= ctx.db.destroy();
      return closed;
    },
  };
}

async function appendEvent(
  ctx: StoreContext,
  tenantId: string | null,
  event: Omit<TenantEvent, 'seq' | 'tenantId' | 'at'>,
): Promise<void> {
  // Without subscriber patterns, the append is one insert.
  await singleStatement(ctx, (tx) => insertEvents(tx, tenantId, [event], nowIso()));
}

async function ping(ctx: StoreContext): Promise<void> {
  try {
    await sql`select 1`.execute(ctx.db);
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new StoreUnavailableError('database unavailable', { cause: error });
  }
}

/** Rewrites the one row of `health_probe`: a whole write transaction, committed. */
async function writeProbe(ctx: StoreContext): Promise<void> {
  const writtenAt = nowIso();
  await ctx.db
    .insertInto('health_probe')
    .values({ id: 1, written_at: writtenAt })
    .onConflict((oc) => oc.column('id').doUpdateSet({ written_at: writtenAt }))
    .execute();
}
