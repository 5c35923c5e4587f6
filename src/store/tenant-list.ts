/**
 * The tenant list query: keyset pagination by id (uuid v7, so roughly creation order) with an
 * opaque cursor, and filters that each map onto an index — phase and provider (`(phase, id)`,
 * `(provider, id)`), name prefix as a `>= / <` range on `name` (no LIKE, nothing to escape), and
 * label requirements as EXISTS / NOT EXISTS on `tenant_labels (key, value, tenant_id)`.
 *
 * Each filter shape (which filters are set, and each label requirement's operator) is one prepared
 * query (prepared-query.ts) — on PostgreSQL a named statement, parsed once per connection — that
 * reads only the columns a listed tenant is made of. A page after a cursor repeats the cursor
 * inside every label subquery (`tenant_labels.tenant_id > cursor`, the same rows as the outer
 * `tenants.id > cursor`): PostgreSQL then reads a label's index from the cursor on, instead of
 * every row with that label from the start (docs/decisions.md, "The tenant list: one named
 * statement per filter shape").
 */
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { Tenant } from '../domain/tenant.js';
import { decodeCursor, pageOf } from './codec.js';
import type { Database } from './schema.js';
import type { LabelRequirement, Page, TenantListQuery, TenantViewRead } from './store.js';
import type { SpecCodec } from './sealed-specs.js';
import { preparedQueryFamily, type QueryTarget } from './prepared-query.js';
import { LIVE, toMaskedTenant, toTenant } from './tenant-rows.js';

/** The smallest string greater than every string that starts with `prefix` (byte-wise order). */
export function prefixUpperBound(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** The columns a listed tenant is made of (`toTenant`, `toMaskedTenant`). */
const LISTED_COLUMNS = [
  'tenants.id',
  'tenants.name',
  'tenants.spec',
  'tenants.generation',
  'tenants.status',
  'tenants.version',
  'tenants.created_at',
  'tenants.updated_at',
] as const;

/** What decides a list query's SQL; its values are the arguments (`ListArgs`). */
interface ListShape {
  readonly after: boolean;
  readonly phase: boolean;
  /** `archived = 0`: archived tenants are left out. */
  readonly live: boolean;
  readonly provider: boolean;
  readonly namePrefix: boolean;
  /** Each label requirement's operator, in order; its key and value are `labelKey<i>`, `labelValue<i>`. */
  readonly labels: readonly LabelRequirement['op'][];
}

/** The arguments of a list query: those its shape uses, plus `labelKey<i>` / `labelValue<i>`. */
interface ListArgs {
  readonly limit: number;
  readonly afterId: string;
  readonly phase: string;
  readonly provider: string;
  readonly nameFrom: string;
  readonly nameTo: string;
  readonly [label: `label${'Key' | 'Value'}${number}`]: string;
}

const shapeKey = (s: ListShape): string =>
  `${+s.after}${+s.phase}${+s.live}${+s.provider}${+s.namePrefix}:${s.labels.join(',')}`;

type ListQuery<O> = SelectQueryBuilder<Database, 'tenants', O>;

function labelMatch(eb: ExpressionBuilder<Database, 'tenants'>, a: ListArgs, shape: ListShape, i: number) {
  let match = eb
    .selectFrom('tenant_labels')
    .select(sql<number>`1`.as('one'))
    .whereRef('tenant_labels.tenant_id', '=', 'tenants.id')
    .where('tenant_labels.key', '=', a[`labelKey${i}`]!)
    .where('tenant_labels.value', '=', a[`labelValue${i}`]!);
  // The same rows as without it (`tenants.id > afterId` already holds), but where the label's
  // index is read from.
  if (shape.after) match = match.where('tenant_labels.tenant_id', '>', a.afterId);
  return shape.labels[i] === '=' ? eb.exists(match) : eb.not(eb.exists(match));
}

function withFilters<O>(query: ListQuery<O>, a: ListArgs, shape: ListShape): ListQuery<O> {
  let q = query;
  if (shape.after) q = q.where('tenants.id', '>', a.afterId);
  if (shape.phase) q = q.where('tenants.phase', '=', a.phase);
  if (shape.live) q = q.where('tenants.archived', '=', LIVE);
  if (shape.provider) q = q.where('tenants.provider', '=', a.provider);
  if (shape.namePrefix) q = q.where('tenants.name', '>=', a.nameFrom).where('tenants.name', '<', a.nameTo);
  for (let i = 0; i < shape.labels.length; i++) q = q.where((eb) => labelMatch(eb, a, shape, i));
  return q;
}

const listPage = preparedQueryFamily(shapeKey, (db, a: ListArgs, shape: ListShape) =>
  withFilters(db.selectFrom('tenants').select(LISTED_COLUMNS), a, shape).orderBy('tenants.id').limit(a.limit),
);

/** `filter` as a shape and its arguments (those the shape does not use are left out). */
function listCall(filter: TenantListQuery, limit: number): { shape: ListShape; args: ListArgs } {
  const args: Record<string, string | number> = { limit: limit + 1 };
  const after = filter.cursor !== undefined && filter.cursor !== '';
  if (after) args.afterId = decodeCursor(filter.cursor, 1)[0]!;
  if (filter.phase !== undefined) args.phase = filter.phase;
  if (filter.provider !== undefined) args.provider = filter.provider;
  const namePrefix = !!filter.namePrefix;
  if (filter.namePrefix) {
    args.nameFrom = filter.namePrefix;
    args.nameTo = prefixUpperBound(filter.namePrefix);
  }
  const labels = filter.labels ?? [];
  labels.forEach((requirement, i) => {
    args[`labelKey${i}`] = requirement.key;
    args[`labelValue${i}`] = requirement.value;
  });
  const shape: ListShape = {
    after,
    phase: filter.phase !== undefined,
    live: !filter.includeArchived && filter.phase !== 'archived',
    provider: filter.provider !== undefined,
    namePrefix,
    labels: labels.map((requirement) => requirement.op),
  };
  return { shape, args: args as unknown as ListArgs };
}

/** One page of rows matching `filter` (and the cursor), plus one more if there is a next page. */
async function pageRows(target: QueryTarget, filter: TenantListQuery) {
  const limit = Math.max(1, Math.floor(filter.limit));
  const { shape, args } = listCall(filter, limit);
  const rows = await listPage.rows(target, shape, args);
  return { rows, limit };
}

export async function listTenants(
  target: QueryTarget,
  specs: SpecCodec,
  filter: TenantListQuery,
): Promise<Page<Tenant>> {
  const { rows, limit } = await pageRows(target, filter);
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
  target: QueryTarget,
  specs: SpecCodec,
  filter: TenantListQuery,
  heldVersion: (id: string) => number | undefined,
): Promise<Page<TenantViewRead>> {
  const { rows, limit } = await pageRows(target, filter);
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
