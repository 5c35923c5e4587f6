/**
 * `lessor tenants delete NAME --purge`: removes the record of an archived tenant. Names are looked
 * up among live tenants only, so an archived one is found through the list (`includeArchived`).
 * With --wait a live tenant is deleted first, followed to archived, then purged.
 */
import { ApiError } from '../api/client.js';
import type { Tenant } from '../api/types.js';
import type { CommandContext } from './context.js';
import { ExitCode } from './exit-codes.js';
import { CommandFailure } from './failure.js';
import type { WaitFlags } from './flags.js';
import { finishWait } from './tenant-output.js';
import { criteriaAfterWrite, waitForTenant } from './wait.js';

export async function purgeTenant(ctx: CommandContext, name: string, flags: WaitFlags): Promise<number> {
  const client = ctx.client();
  const live = await findLive(ctx, name);
  let target = live ?? (await findArchived(ctx, name));
  if (target.status.phase !== 'archived') {
    if (!flags.wait) {
      throw new CommandFailure(
        ExitCode.CONFLICT,
        `tenant ${target.name} is ${target.status.phase}; delete it first, or add --wait`,
      );
    }
    target = await deleteAndWait(ctx, target, flags.timeout);
  }
  await client.deleteTenant(target.id, { purge: true });
  if (ctx.format === 'table') ctx.out(`tenant/${target.name} purged\n`);
  return 0;
}

async function findLive(ctx: CommandContext, name: string): Promise<Tenant | undefined> {
  try {
    return await ctx.client().getTenant(name);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** The one archived tenant with this exact name; several (a name reused) need an id. */
async function findArchived(ctx: CommandContext, name: string): Promise<Tenant> {
  const page = await ctx
    .client()
    .listTenants({ q: name, phase: 'archived', includeArchived: true, limit: 500 });
  const matches = page.items.filter((t) => t.name === name && t.status.phase === 'archived');
  const [only, ...more] = matches;
  if (!only) throw new CommandFailure(ExitCode.NOT_FOUND, `tenant ${name} not found`);
  if (more.length > 0) {
    const ids = matches.map((t) => `  ${t.id} (created ${t.createdAt})`);
    throw new CommandFailure(
      ExitCode.CONFLICT,
      `${matches.length} archived tenants are named ${name}; purge one by id`,
      ids,
    );
  }
  return only;
}

async function deleteAndWait(ctx: CommandContext, tenant: Tenant, timeoutMs: number): Promise<Tenant> {
  const client = ctx.client();
  const after = (await client.deleteTenant(tenant.id)) ?? tenant;
  if (ctx.format === 'table') ctx.out(`tenant/${tenant.name} deleted\n`);
  const criteria = criteriaAfterWrite('archived', after);
  const result = await waitForTenant({ client, tenantId: after.id, criteria, timeoutMs }, after);
  if (result.outcome !== 'done') finishWait(ctx, result, 'be archived');
  return result.tenant;
}
