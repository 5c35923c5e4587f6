/**
 * Finds work for this process: leases due runs (`claimDue`) and hands them to the engine. A pass
 * runs on `kick()` (a start, a resolution, a notification, an execution that freed capacity) and on
 * a timer set for the next `wakeAt`, capped at `pollIntervalMs` so expired leases of other
 * processes are found too. Kicks during a pass are coalesced into one more pass, so a burst of
 * starts is claimed in a few batched `claimDue` calls.
 *
 * The look for the next wake-up (`nextWakeAt`) is asked only while the database may hold a run
 * released to wait there: from the start (a previous process may have left some) and after this
 * process released one (`noteReleasedWake`), until the answer is "none". An idle process then costs
 * one `claimDue` per poll and nothing else. A run another process released is woken by that
 * process's own timer; should that process die, the poll's `claimDue` takes the run once it is due
 * (as it takes the runs whose holder's lease expired).
 */
import type { Logger } from '../../domain/logger.js';
import type { WorkflowRun } from '../../domain/workflow-run.js';
import type { WorkflowRunRepository } from '../../store/store.js';
import type { ResolvedOptions } from './options.js';
import type { RunWriter } from './run-writer.js';

const MAX_BATCH = 128;

export interface ClaimLoopDeps {
  readonly writer: Pick<RunWriter, 'claim'>;
  readonly runs: Pick<WorkflowRunRepository, 'nextWakeAt'>;
  readonly options: ResolvedOptions;
  readonly log: Logger;
  /** How many more runs may start executing in this process now. */
  capacity(): number;
  launch(run: WorkflowRun): void;
}

export class ClaimLoop {
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private passing = false;
  private again = false;
  private scheduled = false;
  /** The last pass stopped for lack of capacity: the next freed slot kicks. */
  private starved = false;
  /** The database may hold an unheld run waiting for a later time (see the file comment). */
  private releasedWakes = true;

  constructor(private readonly deps: ClaimLoopDeps) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pass();
    });
  }

  /** This process released a run to wait in the database until a later time: look for it. */
  noteReleasedWake(): void {
    this.releasedWakes = true;
  }

  /** An execution ended or started waiting: capacity may be free again. */
  released(): void {
    if (this.starved) this.kick();
  }

  private async pass(): Promise<void> {
    if (this.stopped || this.passing) return;
    this.passing = true;
    if (this.timer) clearTimeout(this.timer);
    let delay = this.deps.options.pollIntervalMs;
    try {
      do {
        this.again = false;
        await this.claimAll();
      } while (this.again && !this.stopped);
      delay = await this.nextDelay();
    } catch (error) {
      this.deps.log.warn({ err: error }, 'claiming due workflow runs failed; retrying at the next poll');
    } finally {
      this.passing = false;
      this.arm(delay);
    }
  }

  private async claimAll(): Promise<void> {
    for (;;) {
      const capacity = this.deps.capacity();
      this.starved = capacity <= 0;
      if (this.starved || this.stopped) return;
      const limit = Math.min(capacity, MAX_BATCH);
      const claimed = await this.deps.writer.claim(limit);
      for (const run of claimed) this.deps.launch(run);
      if (claimed.length < limit) return;
    }
  }

  private async nextDelay(): Promise<number> {
    const { pollIntervalMs, now } = this.deps.options;
    if (this.starved || !this.releasedWakes) return pollIntervalMs;
    // Cleared before the look: a release that commits while it runs sets it again.
    this.releasedWakes = false;
    let next: number | null;
    try {
      next = await this.deps.runs.nextWakeAt();
    } catch (error) {
      this.releasedWakes = true;
      throw error;
    }
    if (next === null) return pollIntervalMs;
    this.releasedWakes = true;
    return Math.min(Math.max(next - now(), 1), pollIntervalMs);
  }

  private arm(delay: number): void {
    if (this.stopped) return;
    if (this.again) return this.kick();
    this.timer = setTimeout(() => void this.pass(), delay);
    this.timer.unref();
  }
}
