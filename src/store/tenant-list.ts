/**
 * The tenant list query: keyset pagination by id (uuid v7, so roughly creation order) with an
 * opaque cursor, and filters that each map onto an index — phase and provider (`(phase, id)`,
 * `(provider, id)`), name prefix as a `>= / <` range on `name` (no LIKE, nothing to escape), and
 * label requirements as EXISTS / NOT EXISTS on `tenant_labels (key, value, tenant_id)`.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import type { Tenant } from '../domain/tenant.js';
import { decodeCursor, pageOf } from './codec.js';
import type { Executor } from './context.js';
import type { Database } from './schema.js';
import type { LabelRequirement, Page, TenantListQuery, TenantViewRead } from './store.js';
import type { SpecCodec } from './sealed-specs.js';
import { LIVE, toMaskedTenant, toTenant } from './tenant-rows.js';

type TenantQuery = SelectQueryBuilder<Database, 'tenants', Database['tenants']>;

/** The smallest string greater than every string that starts with `prefix` (byte-wise order). */
export function prefixUpperBound(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

function withLabel(query: TenantQuery, requirement: LabelRequirement): TenantQuery {
  return query.where((eb) => {
    const match = eb
      .selectFrom('tenant_labels')
      .select(sql<number>`1`.as('one'))
      .whereRef('tenant_labels.tenant_id', '=', 'tenants.id')
      .where('tenant_labels.key', '=', requirement.key)
      .where('tenant_labels.value', '=', requirement.value);
    return requirement.op === '=' ? eb.exists(match) : eb.not(eb.exists(match));
  });
}

function withFilters(query: TenantQuery, filter: TenantListQuery): TenantQuery {
  let q = query;
  if (filter.phase !== undefined) q = q.where('tenants.phase', '=', filter.phase);
  if (!filter.includeArchived && filter.phase !== 'archived') q = q.where('tenants.archived', '=', LIVE);
  if (filter.provider !== undefined) q = q.where('tenants.provider', '=', filter.provider);
  if (filter.namePrefix) {
    q = q
      .where('tenants.name', '>=', filter.namePrefix)
      .where('tenants.name', '<', prefixUpperBound(filter.namePrefix));
  }
  for (const requirement of filter.labels ?? []) q = withLabel(q, requirement);
  return q;
}

/** One page of rows matching `filter` (and the cursor), plus one more if there is a next page. */
async function pageRows(db: Executor, filter: TenantListQuery) {
  const limit = Math.max(1, Math.floor(filter.limit));
  let query: TenantQuery = db.selectFrom('tenants').selectAll('tenants');
  if (filter.cursor !== undefined && filter.cursor !== '') {
    const [afterId] = decodeCursor(filter.cursor, 1);
    query = query.where('tenants.id', '>', afterId!);
  }
  const rows = await withFilters(query, filter)
    .orderBy('tenants.id')
    .limit(limit + 1)
    .execute();
  return { rows, limit };
}

export async function listTenants(
  db: Executor,
  specs: SpecCodec,
  filter: TenantListQuery,
): Promise<Page<Tenant>> {
  const { rows, limit } = await pageRows(db, filter);
  return pageOf(
    rows,
    limit,
    (row) => toTenant(row, specs),
    (row) => [row.id],
  );
}

/**
 * `listTenants` for a reader that shows the tenants (`TenantRepository.listForView`): secret
 * values masked, and a row still at the version `heldVersion` names for its id answered
 * `unchanged` without its documents being parsed.
 */
export async function listTenantsForView(
  db: Executor,
  specs: SpecCodec,
  filter: TenantListQuery,
  heldVersion: (id: string) => number | undefined,
): Promise<Page<TenantViewRead>> {
  const { rows, limit } = await pageRows(db, filter);
  return pageOf(
    rows,
    limit,
    (row): TenantViewRead => {
      const version = Number(row.version);
      if (heldVersion(row.id) === version) return { unchanged: true, held: { id: row.id, version } };
      return { unchanged: false, tenant: toMaskedTenant(row, specs) };
    },
    (row) => [row.id],
  );
}
