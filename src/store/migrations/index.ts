/**
 * The migration list, in code (no file scanning: the same list works under tsx and from dist/).
 * Names sort in apply order; never rename or edit an applied migration — add a new one.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { errorMessage, UnavailableError } from '../../domain/errors.js';
import type { SqlDialect } from '../dialect.js';
import type { Database } from '../schema.js';
import { initialMigration } from './0001-initial.js';
import { unsettledTenantsIndex } from './0002-unsettled-tenants-index.js';
import { readyTenantsIndex } from './0003-ready-tenants-index.js';
import { auditRecordsMigration } from './0004-audit-records.js';
import { retentionIndexes } from './0005-retention-indexes.js';
import { healthProbe } from './0006-health-probe.js';
import { serverSecretsTable } from './0007-server-secrets.js';
import { genericWorkflowRuns } from './0008-generic-workflow-runs.js';
import { plansAndRevisions } from './0009-plans-and-revisions.js';
import { webhooksMigration } from './0011-webhooks.js';
import { rolloutsMigration } from './0012-rollouts.js';
import { webhookTraceparent } from './0016-webhook-traceparent.js';
import { sqliteFoldedWrites } from './0017-sqlite-folded-writes.js';
import { sqliteHeldJournal } from './0018-sqlite-held-journal.js';
import { sqliteShownAndRunEnd } from './0019-sqlite-shown-and-run-end.js';
import { sqliteExecutionTransition } from './0020-sqlite-execution-transition.js';
import { leanWriteIndexes } from './0021-lean-write-indexes.js';

export function migrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-unsettled-tenants-index': unsettledTenantsIndex,
    '0003-ready-tenants-index': readyTenantsIndex,
    '0004-audit-records': auditRecordsMigration(dialect),
    '0005-retention-indexes': retentionIndexes,
    '0006-health-probe': healthProbe,
    '0007-server-secrets': serverSecretsTable(dialect),
    '0008-generic-workflow-runs': genericWorkflowRuns(dialect),
    '0009-plans-and-revisions': plansAndRevisions(dialect),
    '0011-webhooks': webhooksMigration(dialect),
    '0012-rollouts': rolloutsMigration(dialect),
    '0016-webhook-traceparent': webhookTraceparent,
    '0017-sqlite-folded-writes': sqliteFoldedWrites(dialect),
    '0018-sqlite-held-journal': sqliteHeldJournal(dialect),
    '0019-sqlite-shown-and-run-end': sqliteShownAndRunEnd(dialect),
    '0020-sqlite-execution-transition': sqliteExecutionTransition(dialect),
    '0021-lean-write-indexes': leanWriteIndexes(dialect),
  };
}

/**
 * Brings the schema up to date. Idempotent; safe to run from several replicas at once (Kysely's
 * migration lock). Throws the first migration error, with its message; an `UnavailableError` as it
 * is (the database could not be reached, before or during a migration: trying again may succeed).
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: SqlDialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error === undefined) return;
  if (error instanceof UnavailableError) throw error;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  const what = failed === undefined ? 'migrations could not run' : `migration ${failed} failed`;
  throw new Error(`${what}: ${errorMessage(error)}`, { cause: error });
}

export interface MigrationStatus {
  readonly applied: readonly string[];
  /** Known to this version, not applied yet (`lessor migrate` applies them). */
  readonly pending: readonly string[];
}

/** Which migrations the database has; reads only (a database never migrated has all pending). */
export async function migrationStatus(db: Kysely<Database>, dialect: SqlDialect): Promise<MigrationStatus> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const all = await new Migrator({ db, provider }).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}
