/**
 * Wire schemas of the small read models the dashboard (and any client) needs beside the resources:
 * who the caller is, and how many tenants are in each phase. No fastify here: the typed client and
 * the dashboard's types load this.
 */
import { z } from 'zod';
import { PHASES } from '../domain/tenant.js';
import { providerType } from './schemas.js';

export const WhoAmISchema = z
  .object({
    name: z.string().describe('The token name, or `anonymous` when no token is configured.'),
    role: z
      .enum(['admin', 'operator', 'viewer'])
      .nullable()
      .describe('Null when the server has tokens and the caller sent none.'),
    authenticated: z.boolean().describe('Whether a bearer token identified the caller.'),
    authRequired: z.boolean().describe('Whether the server has tokens configured (else loopback only).'),
    grants: z
      .array(z.enum(['read', 'write', 'admin']))
      .readonly()
      .describe('What the role may do: `read`, `write` (change tenants), `admin` (everything).'),
  })
  .meta({ id: 'WhoAmI', description: 'The caller as the server sees it, and what its role may do.' });

export const PhaseCountsSchema = z
  .record(z.enum(PHASES), z.number())
  .meta({ id: 'PhaseCounts', description: 'Tenants per phase; every phase is present.' });

export const TenantSummarySchema = z
  .object({
    total: z.number().describe('Tenants that are not archived.'),
    phases: PhaseCountsSchema,
  })
  .meta({ id: 'TenantSummary', description: 'Counts of tenants by phase.' });

export const TenantSummaryQuery = z.strictObject({
  provider: providerType.optional().describe('Only tenants of this provider type.'),
});
