/**
 * A tenant revision: the spec of one generation, kept for as long as the tenant is (every
 * generation, from creation on), so any change can be reviewed and any earlier spec restored.
 */
import type { TenantSpec } from './tenant.js';

export interface TenantRevision {
  readonly tenantId: string;
  readonly generation: number;
  readonly spec: TenantSpec;
  /** Who wrote this generation (`api:<token>`, `controller`, …). */
  readonly actor: string;
  readonly createdAt: string;
}
