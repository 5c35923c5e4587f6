/**
 * The wave scheduler of a rollout: pure functions from (strategy, failure policy, control state,
 * per-wave tallies of member states) to what happens next. No clocks, no I/O: the rollout workflow
 * observes members, tallies them, asks `decide`, and starts what it is told to start.
 *
 * Rules (docs/api.md, "Rollouts"):
 * - Waves are cumulative targets over the members ordered by name; the last wave takes the rest.
 * - Wave k+1 starts only when every member of waves ≤ k is settled (not pending, not in progress).
 * - At most `maxParallel` members are in progress at once.
 * - Halt: a wave's failures (beyond those a `resume` acknowledged) exceed `maxFailedPercent` of
 *   the wave's size, or all failures exceed `maxFailed`. Nothing starts after a halt; in-flight
 *   members finish. `onHalt: pause` → phase `halted`; `rollback` → `rollingBack`.
 * - After a wave listed in `pauseAfterWaves` settles, the rollout pauses until `promote`.
 * - `rollingBack` first waits for in-flight members, then rolls back every changed member.
 */
import type { FailurePolicy, RolloutControl, RolloutPhase, RolloutStrategy, WaveTarget } from './rollout.js';

/** Member states of one wave, counted. `changed` members (succeeded or failed after their change) may be rolled back. */
export interface WaveTally {
  readonly size: number;
  readonly pending: number;
  readonly inProgress: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rollingBack: number;
  readonly rolledBack: number;
  /** Members changed by the rollout and not rolled back yet (settled ones only). */
  readonly rollbackable: number;
}

export type RolloutCommand = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

export interface Decision {
  readonly control: RolloutControl;
  /** The wave the rollout works on (the first with unsettled members), or the last one. */
  readonly currentWave: number;
  /** Start the change on the first `startCount` pending members (by name) of `currentWave`. */
  readonly startCount: number;
  /** Roll back this many of the rollbackable members. */
  readonly rollbackCount: number;
  /** The workflow may end: the phase is final and nothing is in flight. */
  readonly done: boolean;
}

export type CommandResult =
  { readonly ok: true; readonly control: RolloutControl } | { readonly ok: false; readonly reason: string };

/** Exclusive end index of each wave over `total` members; non-decreasing, the last is `total`. */
export function waveEnds(total: number, waves: readonly WaveTarget[]): number[] {
  const ends: number[] = [];
  let previous = 0;
  waves.forEach((target, index) => {
    const wanted = index === waves.length - 1 ? total : targetCount(total, target);
    previous = Math.max(previous, Math.min(total, wanted));
    ends.push(previous);
  });
  return ends;
}

function targetCount(total: number, target: WaveTarget): number {
  if (typeof target === 'number') return target;
  return Math.ceil((total * Number(target.slice(0, -1))) / 100);
}

/** The wave a member at `ordinal` belongs to. */
export function waveOf(ends: readonly number[], ordinal: number): number {
  const index = ends.findIndex((end) => ordinal < end);
  return index === -1 ? ends.length - 1 : index;
}

const sum = (tallies: readonly WaveTally[], pick: (t: WaveTally) => number): number =>
  tallies.reduce((total, tally) => total + pick(tally), 0);

const unsettled = (tally: WaveTally): number => tally.pending + tally.inProgress;

/** Why the halt rule fires now, or null. Exported for the model test. */
export function haltReason(
  policy: FailurePolicy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
): string | null {
  if (policy.maxFailedPercent !== null) {
    for (const [index, tally] of tallies.entries()) {
      const failed = tally.failed - (control.acknowledgedFailed[index] ?? 0);
      if (failed > 0 && failed * 100 > policy.maxFailedPercent * tally.size) {
        return `wave ${index}: ${failed} of ${tally.size} tenants failed (more than ${policy.maxFailedPercent}%)`;
      }
    }
  }
  if (policy.maxFailed !== null) {
    const failed = sum(tallies, (t) => t.failed) - control.acknowledgedFailedTotal;
    if (failed > policy.maxFailed) return `${failed} tenants failed (more than ${policy.maxFailed})`;
  }
  return null;
}

/** The first wave with unsettled members, or the last wave when all are settled. */
function currentWaveOf(tallies: readonly WaveTally[]): number {
  const index = tallies.findIndex((tally) => unsettled(tally) > 0);
  return index === -1 ? Math.max(0, tallies.length - 1) : index;
}

/** A settled wave listed in `pauseAfterWaves`, not promoted, with unsettled members after it. */
function waveToPauseAfter(
  strategy: RolloutStrategy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
): number | null {
  const current = tallies.findIndex((tally) => unsettled(tally) > 0);
  if (current === -1) return null;
  for (let wave = 0; wave < current; wave++) {
    if (strategy.pauseAfterWaves.includes(wave) && !control.promoted.includes(wave)) return wave;
  }
  return null;
}

export function decide(
  strategy: RolloutStrategy,
  policy: FailurePolicy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
): Decision {
  const currentWave = currentWaveOf(tallies);
  const inFlight = sum(tallies, (t) => t.inProgress);
  const idle = { control, currentWave, startCount: 0, rollbackCount: 0, done: false };
  switch (control.phase) {
    case 'pending':
    case 'running':
      return decideRunning(strategy, policy, control, tallies);
    case 'paused':
    case 'halted':
      return idle;
    case 'aborted':
    case 'succeeded':
    case 'rolledBack':
      return { ...idle, done: inFlight === 0 && sum(tallies, (t) => t.rollingBack) === 0 };
    case 'rollingBack':
      return decideRollback(strategy, control, tallies, currentWave);
  }
}

function decideRunning(
  strategy: RolloutStrategy,
  policy: FailurePolicy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
): Decision {
  const currentWave = currentWaveOf(tallies);
  const running: RolloutControl = { ...control, phase: 'running' };
  const halt = haltReason(policy, running, tallies);
  if (halt !== null) {
    const phase: RolloutPhase = policy.onHalt === 'rollback' ? 'rollingBack' : 'halted';
    const halted = { ...running, phase, haltReason: halt, rollbackRequested: policy.onHalt === 'rollback' };
    return phase === 'rollingBack'
      ? decideRollback(strategy, halted, tallies, currentWave)
      : { control: halted, currentWave, startCount: 0, rollbackCount: 0, done: false };
  }
  if (tallies.every((tally) => unsettled(tally) === 0)) {
    return {
      control: { ...running, phase: 'succeeded' },
      currentWave,
      startCount: 0,
      rollbackCount: 0,
      done: true,
    };
  }
  if (waveToPauseAfter(strategy, running, tallies) !== null) {
    return {
      control: { ...running, phase: 'paused' },
      currentWave,
      startCount: 0,
      rollbackCount: 0,
      done: false,
    };
  }
  const inFlight = sum(tallies, (t) => t.inProgress);
  const room = Math.max(0, strategy.maxParallel - inFlight);
  const startCount = Math.min(room, tallies[currentWave]?.pending ?? 0);
  return { control: running, currentWave, startCount, rollbackCount: 0, done: false };
}

function decideRollback(
  strategy: RolloutStrategy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
  currentWave: number,
): Decision {
  const inFlight = sum(tallies, (t) => t.inProgress);
  const rollingBack = sum(tallies, (t) => t.rollingBack);
  const rollbackable = sum(tallies, (t) => t.rollbackable);
  const base = { control, currentWave, startCount: 0, rollbackCount: 0, done: false };
  if (inFlight > 0) return base;
  if (rollbackable === 0 && rollingBack === 0) {
    return { ...base, control: { ...control, phase: 'rolledBack' }, done: true };
  }
  const room = Math.max(0, strategy.maxParallel - rollingBack);
  return { ...base, rollbackCount: Math.min(room, rollbackable) };
}

/**
 * Applies an operator's command to the control state, or says why it does not apply (the API
 * answers 409). Idempotent where it can be: pausing a paused rollout changes nothing.
 */
export function applyCommand(
  strategy: RolloutStrategy,
  control: RolloutControl,
  command: RolloutCommand,
  tallies: readonly WaveTally[],
): CommandResult {
  const result = commandResult(strategy, control, command, tallies);
  if (!result.ok || result.control === control) return result;
  // Work resumes: the next workflow run drives the rollout (see `RolloutControl.run`).
  const resumes = result.control.phase === 'running' || result.control.phase === 'rollingBack';
  return resumes ? { ok: true, control: { ...result.control, run: control.run + 1 } } : result;
}

function commandResult(
  strategy: RolloutStrategy,
  control: RolloutControl,
  command: RolloutCommand,
  tallies: readonly WaveTally[],
): CommandResult {
  const { phase } = control;
  const refuse = (why: string): CommandResult => ({
    ok: false,
    reason: `cannot ${command} a rollout that is ${phase}${why}`,
  });
  switch (command) {
    case 'pause':
      if (phase === 'paused') return { ok: true, control };
      return phase === 'running' ? { ok: true, control: { ...control, phase: 'paused' } } : refuse('');
    case 'resume':
      if (phase === 'running') return { ok: true, control };
      if (phase === 'halted') return { ok: true, control: acknowledge(control, tallies) };
      if (phase !== 'paused') return refuse('');
      return { ok: true, control: promote(strategy, { ...control, phase: 'running' }, tallies) };
    case 'promote': {
      const wave = waveToPauseAfter(strategy, control, tallies);
      if (phase !== 'paused' || wave === null) return refuse(' (not waiting after a wave)');
      return { ok: true, control: promote(strategy, { ...control, phase: 'running' }, tallies) };
    }
    case 'abort':
      if (phase === 'aborted') return { ok: true, control };
      return ['running', 'paused', 'halted', 'pending'].includes(phase)
        ? { ok: true, control: { ...control, phase: 'aborted' } }
        : refuse('');
    case 'rollback':
      if (phase === 'rollingBack') return { ok: true, control };
      return ['running', 'paused', 'halted', 'pending'].includes(phase)
        ? { ok: true, control: { ...control, phase: 'rollingBack', rollbackRequested: true } }
        : refuse('');
  }
}

/** `resume` of a halted rollout: the failures so far are accepted; the halt rule counts new ones. */
function acknowledge(control: RolloutControl, tallies: readonly WaveTally[]): RolloutControl {
  return {
    ...control,
    phase: 'running',
    haltReason: null,
    acknowledgedFailed: tallies.map((t) => t.failed),
    acknowledgedFailedTotal: sum(tallies, (t) => t.failed),
  };
}

function promote(
  strategy: RolloutStrategy,
  control: RolloutControl,
  tallies: readonly WaveTally[],
): RolloutControl {
  const wave = waveToPauseAfter(strategy, control, tallies);
  return wave === null ? control : { ...control, promoted: [...control.promoted, wave] };
}
