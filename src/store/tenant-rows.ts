/**
 * Tenant ⇄ row conversion and the row-level helpers the tenant repository composes: lookup by id
 * or name, label rows. The `phase`, `provider`, `paused`, `observed_generation` and `archived`
 * columns are copies of fields inside the JSON documents, kept so that filters can use indexes.
 * The `spec` column goes through the store's `SpecCodec` (secret values sealed at rest).
 */
import { sql, type Insertable, type Selectable } from 'kysely';
import type { Tenant, TenantStatus } from '../domain/tenant.js';
import { fromFlag, toFlag } from './codec.js';
import type { Executor, StoreContext } from './context.js';
import { preparedQuery } from './prepared-query.js';
import type { TenantsTable } from './schema.js';
import type { SpecCodec } from './sealed-specs.js';
import type { HeldVersion, TenantSummary, TenantViewDocument } from './store.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The columns a tenant is made of (`toTenant`, `toMaskedTenant`). */
export type TenantDocumentRow = Pick<
  Selectable<TenantsTable>,
  'id' | 'name' | 'spec' | 'generation' | 'status' | 'version' | 'created_at' | 'updated_at'
>;

export function toTenant(row: TenantDocumentRow, specs: SpecCodec): Tenant {
  return {
    id: row.id,
    name: row.name,
    spec: specs.decode(row.id, row.spec),
    generation: Number(row.generation),
    status: JSON.parse(row.status) as TenantStatus,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** `toTenant` for display: secret values `***`, never opened (`SpecCodec.mask`). */
export function toMaskedTenant(row: TenantDocumentRow, specs: SpecCodec): Tenant {
  return {
    id: row.id,
    name: row.name,
    spec: specs.mask(row.spec),
    generation: Number(row.generation),
    status: JSON.parse(row.status) as TenantStatus,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The row as `getForView` answers it: the masked tenant parsed only when asked for, the spec's text
 * handed out only when masking provably changes nothing in it (`SpecCodec.unmaskedText`).
 */
export function viewDocument(row: TenantDocumentRow, specs: SpecCodec): TenantViewDocument {
  return {
    id: row.id,
    name: row.name,
    generation: Number(row.generation),
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    specText: specs.unmaskedText(row.spec),
    statusText: row.status,
    tenant: () => toMaskedTenant(row, specs),
  };
}

export function toTenantSummary(
  row: Pick<
    Selectable<TenantsTable>,
    'id' | 'provider' | 'phase' | 'generation' | 'observed_generation' | 'paused'
  >,
): TenantSummary {
  return {
    id: row.id,
    provider: row.provider,
    phase: row.phase as TenantSummary['phase'],
    generation: Number(row.generation),
    observedGeneration: Number(row.observed_generation),
    paused: fromFlag(row.paused),
  };
}

/** Every column of a tenant row, as `tenantRow` fills them. */
export type TenantRow = Required<Insertable<TenantsTable>>;

/** The row of `tenant`, with `spec` already encoded by the store's `SpecCodec`. */
export function tenantRow(tenant: Tenant, spec: string): TenantRow {
  return {
    id: tenant.id,
    name: tenant.name,
    provider: tenant.spec.provider,
    phase: tenant.status.phase,
    generation: tenant.generation,
    observed_generation: tenant.status.observedGeneration,
    paused: toFlag(tenant.spec.paused),
    spec,
    status: JSON.stringify(tenant.status),
    version: tenant.version,
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
    archived: toFlag(tenant.status.phase === 'archived'),
    plan_name: tenant.spec.plan?.name ?? null,
  };
}

const selectTenant = (db: Executor) => db.selectFrom('tenants').selectAll();

/**
 * `archived = 0` as a literal, never a bound parameter: SQLite decides from a parameter's value
 * whether a partial index (`tenants_active_name_unique … where archived = 0`) applies, and so
 * re-prepares the statement every time the value is bound again — which costs more than the
 * lookup itself.
 */
export const LIVE = sql.lit(0);

/** The four lookups of `findTenantRow`, compiled once (a GET by name is one of them). */
const tenantRowBy = {
  id: preparedQuery((db, a: { id: string }) => selectTenant(db).where('id', '=', a.id)),
  name: preparedQuery((db, a: { name: string }) =>
    selectTenant(db).where('name', '=', a.name).where('archived', '=', LIVE),
  ),
  idLocked: preparedQuery((db, a: { id: string }, dialect) =>
    dialect.lockForUpdate(selectTenant(db).where('id', '=', a.id)),
  ),
  nameLocked: preparedQuery((db, a: { name: string }, dialect) =>
    dialect.lockForUpdate(selectTenant(db).where('name', '=', a.name).where('archived', '=', LIVE)),
  ),
};

/**
 * The tenant row by id, else by name among non-archived tenants; `lock` holds it until the
 * transaction ends (PostgreSQL `FOR NO KEY UPDATE`).
 */
export async function findTenantRow(
  ctx: StoreContext,
  db: Executor,
  idOrName: string,
  lock = false,
): Promise<Selectable<TenantsTable> | undefined> {
  const target = { db, dialect: ctx.dialect };
  if (UUID_PATTERN.test(idOrName)) {
    const id = idOrName.toLowerCase();
    const byId = await (lock ? tenantRowBy.idLocked : tenantRowBy.id).first(target, { id });
    if (byId) return byId;
  }
  return (lock ? tenantRowBy.nameLocked : tenantRowBy.name).first(target, { name: idOrName });
}

/** No document held: matches no row (versions start at 1). */
const NOTHING_HELD = { heldId: '', heldVersion: -1 };

type HeldArgs = { heldId: string; heldVersion: number };

/**
 * The columns of a tenant's document, with `spec` and `status` NULL when the row is still the held
 * version (both columns are NOT NULL, so NULL means exactly that): the database decides, in the
 * same statement that finds the row, whether the caller's copy is current.
 */
const selectTenantView = (db: Executor, a: HeldArgs) => {
  const held = sql<boolean>`${sql.ref('id')} = ${a.heldId} and ${sql.ref('version')} = ${a.heldVersion}`;
  return db
    .selectFrom('tenants')
    .select(['id', 'name', 'generation', 'version', 'created_at', 'updated_at'])
    .select(sql<string | null>`case when ${held} then null else ${sql.ref('spec')} end`.as('spec'))
    .select(sql<string | null>`case when ${held} then null else ${sql.ref('status')} end`.as('status'));
};

const tenantViewBy = {
  id: preparedQuery((db, a: HeldArgs & { id: string }) => selectTenantView(db, a).where('id', '=', a.id)),
  name: preparedQuery((db, a: HeldArgs & { name: string }) =>
    selectTenantView(db, a).where('name', '=', a.name).where('archived', '=', LIVE),
  ),
};

export type TenantViewRow = Awaited<ReturnType<(typeof tenantViewBy)['id']['first']>>;

/**
 * `findTenantRow` for reads that serve a document (no lock): `spec` and `status` come back NULL
 * when the row is still at `held` (same id and version).
 */
export function findTenantViewRow(
  ctx: StoreContext,
  idOrName: string,
  held: HeldVersion | undefined,
): Promise<TenantViewRow> {
  const target = { db: ctx.db, dialect: ctx.dialect, readNow: ctx.readNow };
  const heldId = held ? held.id : NOTHING_HELD.heldId;
  const heldVersion = held ? held.version : NOTHING_HELD.heldVersion;
  // Not async: a lookup by name (a GET's usual case) hands on the query's own promise, instead of
  // an async function resolving its promise with another one (two more microtask turns).
  if (!UUID_PATTERN.test(idOrName))
    return tenantViewBy.name.first(target, { heldId, heldVersion, name: idOrName });
  return tenantViewBy.id
    .first(target, { heldId, heldVersion, id: idOrName.toLowerCase() })
    .then((byId) => byId ?? tenantViewBy.name.first(target, { heldId, heldVersion, name: idOrName }));
}

/** Replaces the tenant's label rows with `labels`. */
export async function writeLabels(
  db: Executor,
  tenantId: string,
  labels: Readonly<Record<string, string>>,
  replace: boolean,
): Promise<void> {
  if (replace) await db.deleteFrom('tenant_labels').where('tenant_id', '=', tenantId).execute();
  const rows = Object.entries(labels).map(([key, value]) => ({ tenant_id: tenantId, key, value }));
  if (rows.length > 0) await db.insertInto('tenant_labels').values(rows).execute();
}
