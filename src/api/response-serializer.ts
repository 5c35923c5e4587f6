/**
 * Response serialisation: zod (fastify-type-provider-zod) for every schema, except the tenant
 * document and tenant pages — the API's hottest responses — which `tenantWire` projects onto the
 * schema's fields before `JSON.stringify`. Same bytes as the zod path (unknown fields stripped),
 * without a full schema parse of a server-built document on every GET.
 */
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { Tenant } from '../domain/tenant.js';
import { TenantListSchema, TenantSchema } from './schemas.js';
import { serializeTenant, tenantWire } from './tenant-view.js';

type ZodSerializerCompiler = typeof serializerCompiler;
type RouteSchema = Parameters<ZodSerializerCompiler>[0];

interface TenantPage {
  readonly items: readonly Tenant[];
  readonly nextCursor: string | null;
}

export const responseSerializerCompiler: ZodSerializerCompiler = (route: RouteSchema) => {
  if (route.schema === TenantSchema) return (data) => serializeTenant(data as Tenant);
  if (route.schema === TenantListSchema) {
    return (data) => {
      const page = data as TenantPage;
      return JSON.stringify({ items: page.items.map(tenantWire), nextCursor: page.nextCursor });
    };
  }
  return serializerCompiler(route);
};
