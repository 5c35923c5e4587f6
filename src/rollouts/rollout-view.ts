/**
 * The rollout as the API shows it (docs/api.md, "Rollouts"): its status computed from the members'
 * tallies, the change with secret values masked. The routes answer it, and the rollout's webhook
 * events carry it (written in the transaction of the phase change they report, so the view is
 * built from the tallies the change was decided on). Also which phase changes are webhook events.
 */
import type { Rollout, RolloutChange, RolloutCounts, RolloutPhase, WaveStatus } from '../domain/rollout.js';
import type { WaveTally } from '../domain/rollout-scheduler.js';
import type { RolloutWebhookEventType } from '../domain/webhook.js';
import type { RolloutWebhook } from '../store/store.js';

export interface RolloutStatus {
  readonly phase: Rollout['control']['phase'];
  readonly currentWave: number;
  readonly haltReason: string | null;
  readonly counts: RolloutCounts;
  readonly waves: readonly WaveStatus[];
}

/** Masks the secret values a change may carry (a patch of `spec.config`). */
export type ChangeRedactor = (change: RolloutChange) => RolloutChange;

export function rolloutStatusOf(rollout: Rollout, tallies: readonly WaveTally[]): RolloutStatus {
  const sum = {
    total: rollout.total,
    pending: 0,
    inProgress: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    rolledBack: 0,
  };
  const waves = tallies.map((t, index) => {
    sum.pending += t.pending;
    sum.inProgress += t.inProgress + t.rollingBack;
    sum.succeeded += t.succeeded;
    sum.failed += t.failed;
    sum.skipped += t.skipped;
    sum.rolledBack += t.rolledBack;
    const times = rollout.waveTimes[index] ?? { startedAt: null, finishedAt: null };
    return {
      index,
      size: t.size,
      pending: t.pending,
      inProgress: t.inProgress + t.rollingBack,
      succeeded: t.succeeded,
      failed: t.failed,
      skipped: t.skipped,
      rolledBack: t.rolledBack,
      startedAt: times.startedAt,
      finishedAt: times.finishedAt,
    };
  });
  const current = tallies.findIndex((t) => t.pending + t.inProgress > 0);
  return {
    phase: rollout.control.phase,
    currentWave: current === -1 ? Math.max(0, tallies.length - 1) : current,
    haltReason: rollout.control.haltReason,
    counts: sum,
    waves,
  };
}

export function rolloutResource(rollout: Rollout, status: RolloutStatus, redact: ChangeRedactor) {
  return {
    id: rollout.id,
    description: rollout.description,
    selector: rollout.selector,
    change: redact(rollout.change),
    strategy: rollout.strategy,
    failurePolicy: rollout.failurePolicy,
    status,
    createdBy: rollout.createdBy,
    createdAt: rollout.createdAt,
    updatedAt: rollout.updatedAt,
  };
}

/**
 * The webhook event a change of phase from `from` to `to` is, if any: `rollout.started` when it
 * is created, `halted` when the halt rule stops it (whether it then pauses or rolls back), and the
 * final phases. Pausing, resuming and the start of a rollback asked for by hand are not webhook
 * events (they are on the event stream).
 */
export function rolloutWebhookType(
  to: RolloutPhase,
  from: RolloutPhase,
  haltReason: string | null,
): RolloutWebhookEventType | undefined {
  if (to === from) return undefined;
  switch (to) {
    case 'running':
      return from === 'pending' ? 'rollout.started' : undefined;
    case 'halted':
      return 'rollout.halted';
    case 'rollingBack':
      return from === 'running' && haltReason !== null ? 'rollout.halted' : undefined;
    case 'succeeded':
      return 'rollout.succeeded';
    case 'aborted':
      return 'rollout.aborted';
    case 'rolledBack':
      return 'rollout.rolled_back';
    default:
      return undefined;
  }
}

/** The webhook of the change from `from` to `saved`'s phase, built from `tallies`; undefined when none. */
export function rolloutWebhookOf(
  saved: Rollout,
  from: RolloutPhase,
  tallies: readonly WaveTally[],
  redact: ChangeRedactor,
): RolloutWebhook | undefined {
  const type = rolloutWebhookType(saved.control.phase, from, saved.control.haltReason);
  if (type === undefined) return undefined;
  return { type, resource: rolloutResource(saved, rolloutStatusOf(saved, tallies), redact) };
}
