/**
 * `DELETE /v1/tenants/{idOrName}?purge=true`: removes an archived tenant's record and history for
 * good, so it is admin only, and the store writes a `tenant.purge` audit record (who, what, when) in
 * the purge's own transaction (`GET /v1/audit` lists them).
 *
 * Which tenant: an id names that tenant. A name names the ARCHIVED tenant of that name — names are
 * unique among live tenants only, and only an archived tenant can be purged, so a live tenant of
 * the same name is not what a purge means. Several archived tenants of one name are a 409 listing
 * their ids (a purge is irreversible: the caller picks one); none, but a live one → 409 (delete it
 * first); neither → 404.
 */
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Tenant } from '../domain/tenant.js';
import type { ApiContext } from './api-deps.js';
import { actorOf } from './api-deps.js';
import type { Principal } from './auth.js';
import { httpError } from './problem.js';

/** How many same-named archived tenants a 409 lists. */
const LISTED = 20;

export async function purgeTenant(ctx: ApiContext, principal: Principal, idOrName: string): Promise<void> {
  if (principal.role !== 'admin') {
    throw httpError(
      'FORBIDDEN',
      `role '${principal.role}' may not purge: a purge erases the tenant's history, so only an admin may`,
    );
  }
  const tenant = await purgeTarget(ctx, idOrName);
  if (tenant.status.phase !== 'archived') {
    throw new ConflictError(
      `tenant '${tenant.name}' is ${tenant.status.phase}; only an archived tenant can be purged`,
    );
  }
  await ctx.deps.store.tenants.purge(tenant.id, { actor: actorOf(principal) });
}

async function purgeTarget(ctx: ApiContext, idOrName: string): Promise<Tenant> {
  const { tenants } = ctx.deps.store;
  const found = await tenants.get(idOrName);
  if (found && found.id === idOrName.toLowerCase()) return found;
  const archived = await tenants.listArchivedByName(idOrName, LISTED + 1);
  const [only, ...more] = archived;
  if (only && more.length === 0) return only;
  if (only) throw ambiguous(idOrName, archived);
  if (found) return found;
  throw new NotFoundError('tenant', idOrName);
}

function ambiguous(name: string, archived: readonly Tenant[]): Error {
  const listed = archived.slice(0, LISTED);
  const count = archived.length > LISTED ? `more than ${LISTED}` : String(archived.length);
  return httpError(
    'CONFLICT',
    `${count} archived tenants are named '${name}'; purge one by id: ${listed.map((t) => t.id).join(', ')}`,
    {
      problems: listed.map((t) => ({
        path: 'idOrName',
        message: `archived tenant ${t.id} (created ${t.createdAt}, archived ${t.updatedAt})`,
      })),
    },
  );
}
