/**
 * `RolloutEvents` written to the event log (so `GET /v1/events` streams them): a phase change as a
 * `rollout.<what>` event about no tenant, a member's change as `rollout.tenant_changed` on the
 * member tenant's own history (appended by the store with the member's state, rollout-events.ts). Events carry ids, phases, states and error codes — never the
 * change itself (a patch may hold secret values).
 */
import type { RolloutEventType, TenantEventDraft } from '../domain/tenant-event.js';
import { rolloutActor, type Rollout, type RolloutMember, type RolloutPhase } from '../domain/rollout.js';
import type { Store } from '../store/store.js';
import type { RolloutEvents } from './rollout-events.js';

function phaseEventType(to: RolloutPhase, from: RolloutPhase): RolloutEventType {
  switch (to) {
    case 'pending':
    case 'running':
      return from === 'pending' ? 'rollout.started' : 'rollout.resumed';
    case 'paused':
      return 'rollout.paused';
    case 'halted':
      return 'rollout.halted';
    case 'succeeded':
      return 'rollout.succeeded';
    case 'aborted':
      return 'rollout.aborted';
    case 'rollingBack':
      return 'rollout.rolling_back';
    case 'rolledBack':
      return 'rollout.rolled_back';
  }
}

export function storeRolloutEvents(store: Pick<Store, 'appendEvent'>): RolloutEvents {
  return {
    async phaseChanged(rollout: Rollout, from: RolloutPhase): Promise<void> {
      const to = rollout.control.phase;
      const draft: TenantEventDraft = {
        type: phaseEventType(to, from),
        actor: rolloutActor(rollout.id),
        reason:
          to === 'halted' || (to === 'rollingBack' && rollout.control.haltReason) ? 'Halted' : 'PhaseChanged',
        message: rollout.control.haltReason
          ? `rollout ${rollout.id} is ${to}: ${rollout.control.haltReason}`
          : `rollout ${rollout.id} is ${to}`,
        fromPhase: null,
        toPhase: null,
        generation: 0,
        runId: null,
        executionId: null,
        data: {
          rolloutId: rollout.id,
          phase: to,
          previousPhase: from,
          haltReason: rollout.control.haltReason,
        },
      };
      await store.appendEvent(null, draft);
    },
    memberEvent(rollout: Rollout, member: RolloutMember): TenantEventDraft {
      return {
        type: 'rollout.tenant_changed',
        actor: rolloutActor(rollout.id),
        reason: `Rollout${member.state.charAt(0).toUpperCase()}${member.state.slice(1)}`,
        message: `rollout ${rollout.id}: tenant ${member.tenantName} is ${member.state}${member.error ? ` (${member.error.code})` : ''}`,
        fromPhase: null,
        toPhase: null,
        generation: member.rollbackGeneration ?? member.toGeneration ?? member.snapshotGeneration,
        runId: null,
        executionId: null,
        data: {
          rolloutId: rollout.id,
          wave: member.wave,
          state: member.state,
          merged: member.merged,
          ...(member.error && { error: member.error.code }),
        },
      };
    },
  };
}
