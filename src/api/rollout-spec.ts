/**
 * The `SpecValidator` a rollout changes tenants with: a member's changed spec is exactly what a
 * PATCH of the rollout's merge patch by the rollout's creator would store — the patch merged into
 * the current spec, parsed like a PUT body, `"***"` placeholders kept as the stored secrets, the
 * creator's right to each touched field checked, the config validated by the provider.
 */
import type { ChangeWriter, SpecValidator } from '../rollouts/fleet-tenant-changer.js';
import type { RolloutChange } from '../domain/rollout.js';
import type { Tenant, TenantSpec } from '../domain/tenant.js';
import { applyMergePatch } from './merge-patch.js';
import { parsePatchedSpec, resolveSpec, type SpecContext } from './tenant-spec.js';

export function apiSpecValidator(ctx: SpecContext): SpecValidator {
  return {
    changedSpec(tenant: Tenant, change: RolloutChange, writer: ChangeWriter): TenantSpec {
      const principal = { name: writer.name, role: writer.role, authenticated: true };
      const patched = parsePatchedSpec(applyMergePatch(tenant.spec, change.patch));
      const sentConfig = change.patch.config;
      return resolveSpec(ctx, patched, { principal, sentConfig }, tenant);
    },
  };
}
