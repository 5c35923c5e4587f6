/**
 * What a rollout tells the event stream: its phase changes and its members' state changes. The
 * driver calls these after the change it reports was committed; a change lost to a crash in
 * between is not repeated (the rollout's own record is the truth, the events are news of it).
 */
import type { Rollout, RolloutMember, RolloutPhase } from '../domain/rollout.js';

export interface RolloutEvents {
  phaseChanged(rollout: Rollout, from: RolloutPhase): Promise<void>;
  memberChanged(rollout: Rollout, member: RolloutMember): Promise<void>;
}
