/**
 * What a rollout tells the event stream: its phase changes and its members' state changes. A phase
 * change is told after it was committed (a change lost to a crash in between is not repeated: the
 * rollout's own record is the truth, the events are news of it). A member's event is built here and
 * appended by the store in the very transaction that writes the member's new state, so it exists
 * exactly when that state does.
 */
import type { Rollout, RolloutMember, RolloutPhase } from '../domain/rollout.js';
import type { TenantEventDraft } from '../domain/tenant-event.js';

export interface RolloutEvents {
  phaseChanged(rollout: Rollout, from: RolloutPhase): Promise<void>;
  /** The event recording `member`'s new state (`rollout.tenant_changed` on its tenant). */
  memberEvent(rollout: Rollout, member: RolloutMember): TenantEventDraft;
}
