/**
 * In-memory fake of the persistence ports the embedded engine uses (`runs`, `steps`),
 * keeping the same observable contract as the Kysely store: idempotent `createOrGet` (new runs are
 * `pending`, attempt 1, due at once), guarded `update`, leases with takeover of expired ones,
 * write-once journal entries and first-wins promises. For unit tests and quick development only;
 * the engine's suites also run on real SQLite and PostgreSQL.
 */
import type { RunState } from '../../domain/tenant.js';
import { isRunActive, SUBJECT_TAG, type WorkflowRun, type WorkflowStep } from '../../domain/workflow-run.js';
import type {
  NewWorkflowRun,
  RunEndResult,
  RunEndWrite,
  StepOutcome,
  Store,
  WorkflowRunPatch,
  WorkflowRunRepository,
  WorkflowStepRepository,
} from '../../store/store.js';

export type WorkflowStore = Pick<Store, 'runs' | 'steps'>;

export interface MemoryWorkflowStore extends WorkflowStore {
  /** Number of write calls made, by method (to check that the engine keeps writes few). */
  readonly writes: Map<string, number>;
}

const copy = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

class MemoryRuns implements WorkflowRunRepository {
  readonly rows = new Map<string, WorkflowRun>();
  constructor(
    private readonly now: () => number,
    private readonly count: (method: string) => void,
    private readonly steps: MemorySteps,
  ) {}

  /** As PostgreSQL's one statement: entries only under the guard, the end only when all were new; no events here. */
  async recordEnd(runId: string, end: RunEndWrite): Promise<RunEndResult> {
    this.count('runs.recordEnd');
    const run = this.rows.get(runId);
    const { leaseOwner, expectedStates } = end.guard;
    const held =
      run !== undefined &&
      (leaseOwner === undefined || run.leaseOwner === leaseOwner) &&
      (expectedStates === undefined || expectedStates.includes(run.state));
    if (!held) return { run: undefined, journaled: true, eventsWritten: false };
    const inserted = end.steps.filter((step) => this.steps.insertNew(step)).length;
    if (inserted < end.steps.length) return { run: undefined, journaled: false, eventsWritten: false };
    return { run: await this.update(runId, end.patch, end.guard), journaled: true, eventsWritten: false };
  }

  async createOrGet(input: NewWorkflowRun): Promise<{ run: WorkflowRun; created: boolean }> {
    const existing = this.rows.get(input.runId);
    if (existing) return { run: existing, created: false };
    this.count('runs.createOrGet');
    const at = new Date(this.now()).toISOString();
    const { lease, ...fields } = input;
    const run: WorkflowRun = {
      ...fields,
      tags: { ...input.tags },
      input: copy(input.input),
      state: 'pending',
      attempt: 1,
      output: null,
      error: null,
      wakeAt: this.now(),
      leaseOwner: lease?.owner ?? null,
      leaseExpiresAt: lease?.expiresAt ?? null,
      createdAt: at,
      updatedAt: at,
      finishedAt: null,
    };
    this.rows.set(run.runId, run);
    return { run, created: true };
  }

  async get(runId: string): Promise<WorkflowRun | undefined> {
    return this.rows.get(runId);
  }

  async listBySubject(subject: string, limit: number): Promise<readonly WorkflowRun[]> {
    return [...this.rows.values()]
      .filter((r) => r.tags[SUBJECT_TAG] === subject)
      .reverse()
      .slice(0, limit);
  }

  async update(
    runId: string,
    patch: WorkflowRunPatch,
    guard: { leaseOwner?: string; expectedStates?: readonly RunState[] } = {},
  ): Promise<WorkflowRun | undefined> {
    this.count('runs.update');
    const run = this.rows.get(runId);
    if (!run) return undefined;
    if (guard.leaseOwner !== undefined && run.leaseOwner !== guard.leaseOwner) return undefined;
    if (guard.expectedStates !== undefined && !guard.expectedStates.includes(run.state)) return undefined;
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const updated: WorkflowRun = { ...run, ...copy(defined), updatedAt: new Date(this.now()).toISOString() };
    this.rows.set(runId, updated);
    return updated;
  }

  async claimDue(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<readonly WorkflowRun[]> {
    this.count('runs.claimDue');
    const due = [...this.rows.values()]
      .filter((r) => isRunActive(r.state) && r.wakeAt !== null && r.wakeAt <= now)
      .filter((r) => r.leaseOwner === null || (r.leaseExpiresAt ?? 0) < now)
      .sort((a, b) => (a.wakeAt ?? 0) - (b.wakeAt ?? 0))
      .slice(0, limit);
    return due.map((r) => {
      const claimed = { ...r, leaseOwner: owner, leaseExpiresAt: now + leaseMs };
      this.rows.set(r.runId, claimed);
      return claimed;
    });
  }

  async renewLease(runId: string, owner: string, until: number): Promise<boolean> {
    this.count('runs.renewLease');
    const run = this.rows.get(runId);
    if (!run || run.leaseOwner !== owner) return false;
    this.rows.set(runId, { ...run, leaseExpiresAt: until });
    return true;
  }

  async nextWakeAt(): Promise<number | null> {
    const wakes = [...this.rows.values()]
      .filter((r) => isRunActive(r.state) && r.leaseOwner === null && r.wakeAt !== null)
      .map((r) => r.wakeAt as number);
    return wakes.length === 0 ? null : Math.min(...wakes);
  }
}

class MemorySteps implements WorkflowStepRepository {
  private readonly entries = new Map<string, WorkflowStep>();
  private readonly promises = new Map<string, { value: unknown; resolvedAt: string }>();
  constructor(private readonly count: (method: string) => void) {}

  async list(runId: string): Promise<readonly WorkflowStep[]> {
    return [...this.entries.values()].filter((s) => s.runId === runId).sort((a, b) => a.seq - b.seq);
  }

  async record(step: WorkflowStep): Promise<WorkflowStep> {
    this.count('steps.record');
    const key = `${step.runId}#${step.seq}`;
    const stored = this.entries.get(key);
    if (stored) return stored;
    const entry = copy(step);
    this.entries.set(key, entry);
    return entry;
  }

  /** Stores `step` unless its (runId, seq) is stored; whether it did. */
  insertNew(step: WorkflowStep): boolean {
    const key = `${step.runId}#${step.seq}`;
    if (this.entries.has(key)) return false;
    this.entries.set(key, copy(step));
    return true;
  }

  async recordAll(steps: readonly WorkflowStep[]): Promise<readonly WorkflowStep[]> {
    this.count('steps.recordAll');
    return steps.map((step) => {
      const key = `${step.runId}#${step.seq}`;
      const stored = this.entries.get(key);
      if (stored) return stored;
      const entry = copy(step);
      this.entries.set(key, entry);
      return entry;
    });
  }

  async finish(runId: string, seq: number, outcome: StepOutcome): Promise<void> {
    this.count('steps.finish');
    const key = `${runId}#${seq}`;
    const stored = this.entries.get(key);
    if (!stored) return;
    this.entries.set(key, { ...stored, ...copy({ result: null, error: null, ...outcome }) });
  }

  async resolvePromise(runId: string, key: string, value: unknown, at: string): Promise<boolean> {
    this.count('steps.resolvePromise');
    const id = `${runId}#${key}`;
    if (this.promises.has(id)) return false;
    this.promises.set(id, { value: copy(value) ?? null, resolvedAt: at });
    return true;
  }

  async getPromise(runId: string, key: string): Promise<{ value: unknown; resolvedAt: string } | undefined> {
    return this.promises.get(`${runId}#${key}`);
  }
}

export function createMemoryWorkflowStore(options: { now?: () => number } = {}): MemoryWorkflowStore {
  const now = options.now ?? Date.now;
  const writes = new Map<string, number>();
  const count = (method: string) => writes.set(method, (writes.get(method) ?? 0) + 1);
  const steps = new MemorySteps(count);
  return { runs: new MemoryRuns(now, count, steps), steps, writes };
}
