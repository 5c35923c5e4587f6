/**
 * The tenant a reconcile just read, handed in memory to the run it starts in this process, so the
 * run's first step (`TenantSteps.start`) need not read it again (docs/architecture.md, "The write
 * path in statements"). The run only ever uses it as the base of a compare-and-set on its version
 * (`TenantRepository.changeFrom`): a tenant changed since makes that write fail and the step read
 * as before, so an offered tenant is never trusted beyond what the database confirms. Memory only:
 * a run taken over, replayed or started elsewhere finds nothing and reads.
 */
import type { Tenant } from './tenant.js';

interface Offered {
  readonly tenant: Tenant;
  readonly at: number;
}

export class TenantHandoff {
  private readonly offered = new Map<string, Offered>();

  /**
   * `maxAgeMs`: an offer older than this is not handed over (its compare-and-set would likely
   * fail, costing a statement); `capacity`: offers kept at most (the oldest go first), since a run
   * that never starts here (another engine, no capacity) never takes its offer.
   */
  constructor(
    private readonly maxAgeMs = 2_000,
    private readonly capacity = 1_024,
    private readonly now: () => number = Date.now,
  ) {}

  /** Offers `tenant`, as just read, to run `runId`. */
  offer(runId: string, tenant: Tenant): void {
    const now = this.now();
    this.offered.delete(runId);
    for (const [key, entry] of this.offered) {
      if (this.offered.size < this.capacity && now - entry.at <= this.maxAgeMs) break;
      this.offered.delete(key);
    }
    this.offered.set(runId, { tenant, at: now });
  }

  /** The tenant offered to `runId`, once; undefined when none was, or it is too old. */
  take(runId: string): Tenant | undefined {
    const entry = this.offered.get(runId);
    if (!entry) return undefined;
    this.offered.delete(runId);
    return this.now() - entry.at <= this.maxAgeMs ? entry.tenant : undefined;
  }

  /** Drops the offer to `runId` (the run was not started by this offer). */
  withdraw(runId: string): void {
    this.offered.delete(runId);
  }

  get size(): number {
    return this.offered.size;
  }
}
