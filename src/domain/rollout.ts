/**
 * The rollout resource (docs/api.md, "Rollouts"): one change applied to many tenants in waves,
 * watched, halted by a failure rate and optionally rolled back. Membership is resolved once, at
 * create, ordered by tenant name; each member moves through `MemberState` exactly once per rollout
 * (a member is changed at most once, and rolled back at most once).
 */
import type { JsonObject, Phase } from './tenant.js';

export const ROLLOUT_PHASES = [
  'pending',
  'running',
  'paused',
  'halted',
  'succeeded',
  'aborted',
  'rollingBack',
  'rolledBack',
] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/** Phases a rollout never leaves; its members no longer block other rollouts. */
export const FINAL_ROLLOUT_PHASES: readonly RolloutPhase[] = ['succeeded', 'aborted', 'rolledBack'];

export const MEMBER_STATES = [
  'pending',
  'inProgress',
  'succeeded',
  'failed',
  'skipped',
  'rollingBack',
  'rolledBack',
] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/** A cumulative wave target: a tenant count, or a percent of the members (`"10%"`). */
export type WaveTarget = number | `${number}%`;

export interface RolloutSelector {
  /** A label selector (`plan=pro,region!=eu`). */
  readonly labels: string | null;
  /** Exact tenant names. */
  readonly names: readonly string[] | null;
  /** Only tenants in these phases (default: every live phase). */
  readonly phases: readonly Phase[] | null;
  /** Only tenants made from this plan (absent in rollouts stored before it existed). */
  readonly plan?: string | null;
}

/**
 * What a rollout does to each member: a JSON merge patch of its spec, or a move of a member made
 * from a plan to that revision of its plan (its overrides kept).
 */
export type RolloutChange = { readonly patch: JsonObject } | { readonly planRevision: number };

export interface RolloutStrategy {
  readonly waves: readonly WaveTarget[];
  readonly maxParallel: number;
  /** How long a changed tenant must stay ready at its new generation to count as succeeded. */
  readonly minHealthyMs: number;
  /** A changed tenant not succeeded this long after its change has failed. */
  readonly progressDeadlineMs: number;
  /** After these waves (indexes) the rollout pauses until `promote`. */
  readonly pauseAfterWaves: readonly number[];
}

export type OnHalt = 'pause' | 'rollback';

export interface FailurePolicy {
  /** Halt when a wave's failures exceed this percent of the wave's size. */
  readonly maxFailedPercent: number | null;
  /** Halt when the failures of the whole rollout exceed this count. */
  readonly maxFailed: number | null;
  readonly onHalt: OnHalt;
}

/**
 * What the scheduler remembers between ticks besides member states (rollout-scheduler.ts).
 * `acknowledgedFailed` are the failures a `resume` accepted (per wave, and in total): the halt rule
 * counts only failures beyond them, so a halted rollout resumed after a fix goes on.
 */
export interface RolloutControl {
  readonly phase: RolloutPhase;
  readonly haltReason: string | null;
  /** Waves whose `pauseAfterWaves` pause a `promote` has lifted. */
  readonly promoted: readonly number[];
  readonly acknowledgedFailed: readonly number[];
  readonly acknowledgedFailedTotal: number;
  /** Set by `rollback` or by a halt with `onHalt: rollback`. */
  readonly rollbackRequested: boolean;
  /**
   * Which workflow run drives the rollout (`rolloutRunId`). A run ends when nothing is left for it
   * to do (final, or paused/halted with nothing in flight); the command that gives it work again
   * (resume, promote, rollback, abort) counts this up and starts the next run.
   */
  readonly run: number;
}

export interface RolloutCounts {
  readonly total: number;
  readonly pending: number;
  readonly inProgress: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rolledBack: number;
}

export interface WaveStatus {
  readonly index: number;
  readonly size: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly inProgress: number;
  readonly skipped: number;
  readonly pending: number;
  readonly rolledBack: number;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface Rollout {
  readonly id: string;
  readonly description: string;
  readonly selector: RolloutSelector;
  readonly change: RolloutChange;
  readonly strategy: RolloutStrategy;
  readonly failurePolicy: FailurePolicy;
  readonly control: RolloutControl;
  /** Wave start/finish times, by wave index. */
  readonly waveTimes: readonly { readonly startedAt: string | null; readonly finishedAt: string | null }[];
  readonly total: number;
  readonly createdBy: string;
  /** The role of the creator: the changes are made with its rights. */
  readonly createdByRole: 'admin' | 'operator' | 'viewer';
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export interface RolloutMember {
  readonly rolloutId: string;
  readonly ordinal: number;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly wave: number;
  readonly state: MemberState;
  /** The tenant's generation when membership was resolved. */
  readonly snapshotGeneration: number;
  /** The generation the tenant had when the rollout changed it. */
  readonly fromGeneration: number | null;
  readonly toGeneration: number | null;
  /** The generation the rollback wrote. */
  readonly rollbackGeneration: number | null;
  /** The tenant's spec changed since membership was resolved: the change was merged into it. */
  readonly merged: boolean;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly startedAt: string | null;
  readonly healthySince: string | null;
  readonly finishedAt: string | null;
}

export function rolloutSubject(rolloutId: string): string {
  return `rollout:${rolloutId}`;
}

/** The actor recorded on every tenant change a rollout makes. */
export function rolloutActor(rolloutId: string): string {
  return `rollout:${rolloutId}`;
}

export function initialControl(): RolloutControl {
  return {
    phase: 'running',
    haltReason: null,
    promoted: [],
    acknowledgedFailed: [],
    acknowledgedFailedTotal: 0,
    rollbackRequested: false,
    run: 0,
  };
}

export function rolloutRunId(rolloutId: string, run: number): string {
  return `rollout:${rolloutId}:${run}`;
}
