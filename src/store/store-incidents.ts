/**
 * The store's own account of storage incidents. An incident is a stretch of StoreUnavailableErrors
 * (a full disk, a read-only file, failing I/O, a lost server): it opens with the first one and ends
 * with the first successful write probe that comes `quietMs` or more after the last failure. The
 * quiet period keeps a disk on the edge of full — where the small probe still fits but larger
 * writes do not — in one incident instead of one per refused write.
 *
 * It is logged as one `error` line with the cause when it opens, a `warn` line with the number of
 * failed store calls every `summaryEveryMs` while it lasts, and one `info` line when it ends —
 * never a line per failed call, however many requests are refused meanwhile. While it is open the
 * store runs its write probe every `probeEveryMs`, so the end is noticed (and logged) even when
 * nothing else writes; `/readyz` runs the same probe and is 503 while an incident is open.
 *
 * Failures of the migration are not incidents: it runs before the store serves anything, and its
 * caller (start-up, which waits for a database that is not reachable yet) reports them itself.
 */
import type { StoreUnavailableError } from '../domain/errors.js';
import type { Logger } from '../domain/logger.js';

export interface StoreIncidentTiming {
  /** Pause between write probes while an incident is open (ms). */
  readonly probeEveryMs: number;
  /** How long after the last failure a successful probe ends the incident (ms). */
  readonly quietMs: number;
  /** Least time between two "still unavailable" lines (ms). */
  readonly summaryEveryMs: number;
  readonly now: () => number;
}

/** `quietMs` matches the Retry-After the API sends: a client that obeys it keeps an incident open. */
export const DEFAULT_INCIDENT_TIMING: StoreIncidentTiming = {
  probeEveryMs: 1_000,
  quietMs: 5_000,
  summaryEveryMs: 30_000,
  now: () => Date.now(),
};

interface OpenIncident {
  readonly startedAt: number;
  lastFailureAt: number;
  failedCalls: number;
  /** Failed calls since the last line about this incident. */
  unreported: number;
  reportedAt: number;
}

export class StoreIncidents {
  private incident: OpenIncident | null = null;
  private probe: (() => Promise<void>) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;
  private closed = false;
  /** Operations running whose failures their caller reports (see `leftToCaller`). */
  private callerReports = 0;

  constructor(
    private readonly logger: Logger,
    private readonly timing: StoreIncidentTiming = DEFAULT_INCIDENT_TIMING,
  ) {}

  /** The write probe run while an incident is open. Set once, by the store that owns this log. */
  useProbe(probe: () => Promise<void>): void {
    this.probe = probe;
  }

  /** Runs `operation`; the store calls that fail meanwhile are reported by its caller, not here. */
  async leftToCaller<T>(operation: () => Promise<T>): Promise<T> {
    this.callerReports++;
    try {
      return await operation();
    } finally {
      this.callerReports--;
    }
  }

  /** A store call failed with `error`: opens an incident, or extends the open one. */
  failed(error: StoreUnavailableError): void {
    if (this.callerReports > 0) return;
    const now = this.timing.now();
    if (this.incident) {
      this.incident.lastFailureAt = now;
      this.incident.failedCalls++;
      this.incident.unreported++;
      return;
    }
    this.incident = { startedAt: now, lastFailureAt: now, failedCalls: 1, unreported: 0, reportedAt: now };
    this.logger.error(
      { err: error.cause ?? error },
      `store unavailable: ${error.message}; answering 503 STORE_UNAVAILABLE until writes succeed again`,
    );
    this.startProbing();
  }

  /**
   * A write probe succeeded: ends the open incident when the last failure is `quietMs` old.
   * Returns the milliseconds still to wait before it can end (0: no incident is open any more).
   */
  probeSucceeded(): number {
    const incident = this.incident;
    if (!incident) return 0;
    const now = this.timing.now();
    const quietFor = now - incident.lastFailureAt;
    if (quietFor < this.timing.quietMs) return this.timing.quietMs - quietFor;
    this.incident = null;
    this.stopProbing();
    this.logger.info(
      { failedCalls: incident.failedCalls, durationMs: now - incident.startedAt },
      'store available again',
    );
    return 0;
  }

  /** Stops probing for good (the store is closing); an open incident is left unreported. */
  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private startProbing(): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.timing.probeEveryMs);
    this.timer.unref();
  }

  private stopProbing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (!this.incident || this.probing || !this.probe) return;
    this.summarise(this.incident);
    this.probing = true;
    try {
      await this.probe();
    } catch {
      // Still unavailable (counted through `failed`), or still within the quiet period.
    } finally {
      this.probing = false;
    }
  }

  private summarise(incident: OpenIncident): void {
    const now = this.timing.now();
    if (incident.unreported === 0 || now - incident.reportedAt < this.timing.summaryEveryMs) return;
    this.logger.warn(
      {
        failedCalls: incident.failedCalls,
        sinceLastReport: incident.unreported,
        durationMs: now - incident.startedAt,
      },
      'store still unavailable',
    );
    incident.unreported = 0;
    incident.reportedAt = now;
  }
}
