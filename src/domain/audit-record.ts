/**
 * An entry of the audit trail that outlives what it describes: written in the same transaction as
 * the act (a tenant purge erases the tenant's own event history, so its record cannot live there),
 * never updated or deleted, and never swept by retention.
 */
export type AuditAction = 'tenant.purge';

export interface AuditRecord {
  /** Time-ordered (UUID v7). */
  readonly id: string;
  /** RFC 3339. */
  readonly at: string;
  /** Who: `api:<token name>`. */
  readonly actor: string;
  readonly action: AuditAction;
  /** What it acted on (for `tenant.purge`, the tenant id and name). */
  readonly targetId: string;
  readonly targetName: string;
  /** What is worth knowing about the target afterwards; never secrets. */
  readonly details: Readonly<Record<string, unknown>>;
}
