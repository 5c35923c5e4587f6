/**
 * Rollouts as the API uses them: plan (the dry run: membership resolved, waves cut, every member's
 * change validated), create (stored with its members, then its first workflow run started),
 * operator commands (pause, resume, promote, abort, rollback: a compare-and-set on the control
 * state, then the next run when work resumes) and the status view. `resumeAll` starts, idempotently,
 * the current run of every unfinished rollout — at start-up, so a rollout created just before a
 * crash (stored, its run not yet started) is driven all the same.
 */
import { withContext, type TraceContext } from '../domain/tracing.js';
import {
  InvalidTransitionError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
} from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Logger } from '../domain/logger.js';
import {
  FINAL_ROLLOUT_PHASES,
  ROLLOUT_PHASES,
  type FailurePolicy,
  type MemberState,
  type RolloutMember,
  type RolloutPhase,
  type Rollout,
  type RolloutChange,
  type RolloutSelector,
  type RolloutStrategy,
} from '../domain/rollout.js';
import { applyCommand, waveEnds, waveOf, type RolloutCommand } from '../domain/rollout-scheduler.js';
import type { Phase, Tenant } from '../domain/tenant.js';
import type {
  LabelRequirement,
  MemberTally,
  NewRollout,
  Page,
  RolloutRepository,
  TenantRepository,
} from '../store/store.js';
import type { WorkflowEngine } from '../workflow/engine.js';
import type { ChangeProblem, ChangeWriter, FleetTenantChanger } from './fleet-tenant-changer.js';
import { waveTallies } from './rollout-driver.js';
import type { RolloutEvents } from './rollout-events.js';
import {
  rolloutResource,
  rolloutStatusOf,
  rolloutWebhookOf,
  type ChangeRedactor,
  type RolloutStatus,
} from './rollout-view.js';
import { rolloutRunRequest } from './rollout-workflow.js';

export type { RolloutStatus } from './rollout-view.js';

/** The tallies of a rollout just stored: every member pending, in its wave. */
function pendingTallies(members: NewRollout['members']): MemberTally[] {
  const byWave = new Map<number, number>();
  for (const m of members) byWave.set(m.wave, (byWave.get(m.wave) ?? 0) + 1);
  return [...byWave].map(([wave, count]) => ({ wave, state: 'pending' as const, count, changed: 0 }));
}

export interface RolloutRequest {
  readonly description: string;
  readonly selector: RolloutSelector;
  /** `selector.labels`, parsed. */
  readonly labels: readonly LabelRequirement[];
  readonly change: RolloutChange;
  readonly strategy: RolloutStrategy;
  readonly failurePolicy: FailurePolicy;
}

export interface InvalidMember {
  readonly tenant: string;
  readonly tenantId: string;
  readonly error: ChangeProblem;
}

export interface RolloutPlan {
  readonly total: number;
  readonly waves: readonly {
    readonly index: number;
    readonly size: number;
    readonly tenants: readonly string[];
  }[];
  /** Members whose changed spec would be refused; left out of the rollout with `skipInvalid`. */
  readonly invalid: readonly InvalidMember[];
}

export interface RolloutServiceDeps {
  readonly rollouts: RolloutRepository;
  readonly tenants: Pick<TenantRepository, 'list'>;
  readonly engine: Pick<WorkflowEngine, 'start'>;
  readonly changer: FleetTenantChanger;
  readonly events: RolloutEvents;
  /** Masks secret values of the change in the rollout's API view and webhook events. */
  readonly redact: ChangeRedactor;
  readonly logger: Logger;
}

/** Live phases a selector without `phases` takes: every one but those whose spec cannot change. */
const DEFAULT_PHASES: readonly Phase[] = ['requested', 'provisioning', 'ready', 'updating', 'failed'];
const PAGE = 500;

export class RolloutService {
  constructor(private readonly deps: RolloutServiceDeps) {}

  async plan(
    request: RolloutRequest,
    writer: ChangeWriter,
  ): Promise<RolloutPlan & { members: readonly Tenant[] }> {
    const tenants = await this.resolveMembers(request);
    const plans = await this.deps.changer.prepare(request.change, tenants);
    const invalid: InvalidMember[] = [];
    const members: Tenant[] = [];
    for (const tenant of tenants) {
      const plan = this.deps.changer.dryRun(tenant, request.change, writer, plans);
      if (plan.ok) members.push(tenant);
      else invalid.push({ tenant: tenant.name, tenantId: tenant.id, error: plan.error });
    }
    const ends = waveEnds(members.length, request.strategy.waves);
    const waves = ends.map((end, index) => {
      const start = index === 0 ? 0 : (ends[index - 1] ?? 0);
      return { index, size: end - start, tenants: members.slice(start, end).map((t) => t.name) };
    });
    return { total: members.length, waves, invalid, members };
  }

  async create(
    request: RolloutRequest,
    writer: ChangeWriter,
    /** `trace`: the request's trace context, which the rollout's run continues. */
    options: { skipInvalid: boolean; trace?: TraceContext | undefined },
  ): Promise<Rollout> {
    const plan = await this.plan(request, writer);
    if (plan.invalid.length > 0 && !options.skipInvalid) {
      throw new ValidationError(
        `${plan.invalid.length} member(s) would get an invalid spec; fix them, narrow the selector or set skipInvalid`,
        plan.invalid
          .slice(0, 100)
          .map((m) => ({ path: `tenants.${m.tenant}`, message: `${m.error.code}: ${m.error.message}` })),
      );
    }
    if (plan.total === 0) {
      throw new ValidationError('the selector matches no tenant that can take the change', [
        { path: 'selector', message: 'matches no tenant' },
      ]);
    }
    const ends = waveEnds(plan.total, request.strategy.waves);
    const created: NewRollout = {
      id: newId(),
      description: request.description,
      selector: request.selector,
      change: request.change,
      strategy: request.strategy,
      failurePolicy: request.failurePolicy,
      createdBy: writer.name,
      createdByRole: writer.role,
      members: plan.members.map((t, i) => ({
        tenantId: t.id,
        tenantName: t.name,
        wave: waveOf(ends, i),
        generation: t.generation,
      })),
    };
    const rollout = await this.deps.rollouts.create(created, (stored) =>
      rolloutWebhookOf(
        stored,
        'pending',
        waveTallies(stored, pendingTallies(created.members)),
        this.deps.redact,
      ),
    );
    await this.tell(() =>
      withContext(options.trace, () => this.deps.events.phaseChanged(rollout, 'pending')),
    );
    await this.deps.engine.start(rolloutRunRequest(rollout.id, rollout.control.run, options.trace));
    return rollout;
  }

  list(query: {
    limit: number;
    cursor?: string | undefined;
    phase?: RolloutPhase | undefined;
  }): Promise<Page<Rollout>> {
    return this.deps.rollouts.list(query);
  }

  members(
    id: string,
    query: { limit: number; cursor?: string | undefined; state?: MemberState | undefined },
  ): Promise<Page<RolloutMember>> {
    return this.deps.rollouts.members(id, query);
  }

  /** Events are news of committed changes: one that cannot be written is logged, never fails the request. */
  private async tell(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'a rollout event could not be written; the change stands');
    }
  }

  async require(id: string): Promise<Rollout> {
    const rollout = await this.deps.rollouts.get(id);
    if (!rollout) throw new NotFoundError('rollout', id);
    return rollout;
  }

  /** `trace`: the request's trace context, which a run the command starts continues. */
  async command(id: string, command: RolloutCommand, trace?: TraceContext): Promise<Rollout> {
    for (let attempt = 1; ; attempt++) {
      const rollout = await this.require(id);
      const tallies = waveTallies(rollout, await this.deps.rollouts.tallies(id));
      const result = applyCommand(rollout.strategy, rollout.control, command, tallies);
      if (!result.ok)
        throw new InvalidTransitionError(result.reason, { phase: rollout.control.phase, command });
      if (result.control === rollout.control) return rollout;
      try {
        const saved = await this.deps.rollouts.saveControl(
          id,
          { control: result.control, waveTimes: rollout.waveTimes },
          rollout.version,
          (next) => rolloutWebhookOf(next, rollout.control.phase, tallies, this.deps.redact),
        );
        if (saved.control.phase !== rollout.control.phase)
          await this.tell(() =>
            withContext(trace, () => this.deps.events.phaseChanged(saved, rollout.control.phase)),
          );
        if (saved.control.run !== rollout.control.run) {
          await this.deps.engine.start(rolloutRunRequest(id, saved.control.run, trace));
        }
        return saved;
      } catch (error) {
        // The rollout's own run saved a decision meanwhile: decide again on the fresh state.
        if (!(error instanceof PreconditionFailedError) || attempt >= 5) throw error;
      }
    }
  }

  async status(rollout: Rollout): Promise<RolloutStatus> {
    return rolloutStatusOf(rollout, waveTallies(rollout, await this.deps.rollouts.tallies(rollout.id)));
  }

  /** The rollout as the API shows it. */
  async view(rollout: Rollout): Promise<ReturnType<typeof rolloutResource>> {
    return rolloutResource(rollout, await this.status(rollout), this.deps.redact);
  }

  /** Starts (idempotently) the current run of every unfinished rollout; returns how many. */
  async resumeAll(): Promise<number> {
    let resumed = 0;
    for (const phase of ROLLOUT_PHASES.filter((p) => !FINAL_ROLLOUT_PHASES.includes(p))) {
      let cursor: string | undefined;
      do {
        const page = await this.deps.rollouts.list({ limit: PAGE, cursor, phase });
        for (const rollout of page.items) {
          await this.deps.engine.start(rolloutRunRequest(rollout.id, rollout.control.run));
          resumed++;
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    }
    return resumed;
  }

  /** The selector's tenants, ordered by name. */
  private async resolveMembers(request: RolloutRequest): Promise<Tenant[]> {
    const phases = new Set(request.selector.phases ?? DEFAULT_PHASES);
    const names = request.selector.names === null ? null : new Set(request.selector.names);
    const plan = request.selector.plan ?? null;
    const found: Tenant[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.tenants.list({ limit: PAGE, cursor, labels: request.labels });
      for (const tenant of page.items) {
        if (!phases.has(tenant.status.phase)) continue;
        if (names !== null && !names.has(tenant.name)) continue;
        if (plan !== null && tenant.spec.plan?.name !== plan) continue;
        found.push(tenant);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
