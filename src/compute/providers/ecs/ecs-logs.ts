/**
 * Reading a tenant's output from CloudWatch Logs, where the awslogs driver of its task definition
 * sends it (streams `<stream-prefix>/<container>/<task-id>`, one per task, kept after the task
 * stops — so a suspended tenant's output stays readable).
 *
 * Only FilterLogEvents is used, over the streams starting with `<stream-prefix>/<container>/`: it
 * interleaves every task's stream by time. Memory stays bounded whatever the volume: events are
 * pulled one page at a time and passed on line by line; `tail` keeps at most `tail` lines (the
 * newest), found by scanning windows backwards from now (5 minutes, then each six times as long)
 * until enough lines are seen or `since` is reached. `follow` then polls from the newest timestamp
 * seen, skipping the events already sent at that very millisecond (as `aws logs tail --follow`
 * does), and ends when the service is gone. A line that reaches CloudWatch later than newer ones
 * already sent is missed by a follow: CloudWatch has no cursor over ingestion order.
 *
 * CloudWatch does not record whether a line came from stdout or stderr: every line is `stdout`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComputeError } from '../../../domain/compute-error.js';
import type { LogLine, LogRequest } from '../../provider.js';
import type { LogEvent, LogEventsPage, LogEventsQuery } from './logs-api.js';

/** Where the output of one tenant is, as read from its task definition. */
export interface LogSource {
  readonly group: string;
  /** `<stream-prefix>/<container>/`: every task's stream of the tenant's container. */
  readonly streamPrefix: string;
}

export interface LogReader {
  filter(query: LogEventsQuery, signal: AbortSignal): Promise<LogEventsPage>;
  /** False once the service is gone (ends a follow). */
  exists(signal: AbortSignal): Promise<boolean>;
  /** Classifies a failure of a follow's poll: retriable ones are retried a few times. */
  mapError(error: unknown): ComputeError;
  readonly pollIntervalMs: number;
  readonly now: () => number;
}

/** The first window `tail` looks back over, and how much longer each next one is. */
const FIRST_WINDOW_MS = 5 * 60_000;
const WINDOW_GROWTH = 6;
/** Consecutive failed polls of a follow before it gives up with the last error. */
const MAX_POLL_FAILURES = 5;

/** Where a follow resumes: the newest timestamp sent and the events sent at exactly that time. */
class Cursor {
  private seen = new Set<string>();

  constructor(public ts: number) {}

  /** Records `event`; false when it was already sent. */
  take(event: LogEvent): boolean {
    if (event.timestamp < this.ts) return true; // late and older: sent by the scan that found it
    if (event.timestamp > this.ts) {
      this.ts = event.timestamp;
      this.seen = new Set();
    }
    if (this.seen.has(event.eventId)) return false;
    this.seen.add(event.eventId);
    return true;
  }

  isNew(event: LogEvent): boolean {
    return event.timestamp > this.ts || (event.timestamp === this.ts && !this.seen.has(event.eventId));
  }
}

export async function* readLogLines(
  reader: LogReader,
  source: LogSource,
  request: Pick<LogRequest, 'tail' | 'sinceMs' | 'follow'>,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  const since = request.sinceMs;
  let cursor: Cursor;
  if (request.tail === undefined) {
    cursor = new Cursor(since ?? 0);
    for await (const event of scan(reader, source, since, undefined, signal)) {
      if (cursor.take(event)) yield* linesOf(event);
    }
  } else {
    const end = reader.now();
    // A follow goes on from now, or from `since` when that is later.
    cursor = new Cursor(Math.max(end, since ?? 0));
    if (request.tail > 0) {
      for (const { event, line } of await newest(reader, source, request.tail, since, end, signal)) {
        if (event.timestamp === end) cursor.take(event);
        yield line;
      }
    }
  }
  if (!request.follow) return;
  yield* follow(reader, source, cursor, signal);
}

async function* follow(
  reader: LogReader,
  source: LogSource,
  cursor: Cursor,
  signal: AbortSignal,
): AsyncGenerator<LogLine> {
  let failures = 0;
  for (;;) {
    try {
      await sleep(reader.pollIntervalMs, undefined, { signal });
    } catch {
      return; // the reader left
    }
    try {
      if (!(await reader.exists(signal))) return;
      // The cursor moves with every line sent, so a poll that fails half-way is repeated from
      // where it stopped.
      for await (const event of scan(reader, source, cursor.ts, undefined, signal)) {
        if (cursor.isNew(event) && cursor.take(event)) yield* linesOf(event);
      }
      failures = 0;
    } catch (error) {
      if (signal.aborted) return;
      const mapped = reader.mapError(error);
      if (mapped.classification !== 'retriable' || ++failures >= MAX_POLL_FAILURES) throw mapped;
    }
  }
}

/** Every event in [start, end] (both optional), oldest first, one page at a time. */
async function* scan(
  reader: LogReader,
  source: LogSource,
  start: number | undefined,
  end: number | undefined,
  signal: AbortSignal,
): AsyncGenerator<LogEvent> {
  let nextToken: string | undefined;
  do {
    const page = await reader.filter(
      {
        group: source.group,
        streamPrefix: source.streamPrefix,
        ...(start !== undefined && { startTime: start }),
        ...(end !== undefined && { endTime: end }),
        ...(nextToken !== undefined && { nextToken }),
      },
      signal,
    );
    yield* page.events;
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
}

interface TailEntry {
  readonly event: LogEvent;
  readonly line: LogLine;
}

/** The newest `tail` lines at or before `end` (and at or after `since`), oldest first. */
async function newest(
  reader: LogReader,
  source: LogSource,
  tail: number,
  since: number | undefined,
  end: number,
  signal: AbortSignal,
): Promise<TailEntry[]> {
  const floor = since ?? 0;
  const windows: TailEntry[][] = [];
  let found = 0;
  let windowEnd = end;
  let size = FIRST_WINDOW_MS;
  while (found < tail && windowEnd >= floor) {
    const windowStart = Math.max(floor, windowEnd - size + 1);
    const ring = new Ring<TailEntry>(tail - found);
    for await (const event of scan(reader, source, windowStart, windowEnd, signal)) {
      for (const line of linesOf(event)) ring.push({ event, line });
    }
    const lines = ring.toArray();
    windows.unshift(lines);
    found += lines.length;
    windowEnd = windowStart - 1;
    size *= WINDOW_GROWTH;
  }
  return windows.flat();
}

/** One CloudWatch event is one write of the driver; a multi-line message becomes several lines. */
function* linesOf(event: LogEvent): Generator<LogLine> {
  const ts = new Date(event.timestamp).toISOString();
  const parts = event.message.split(/\r?\n/);
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  for (const line of parts) yield { ts, stream: 'stdout', line };
}

/** The last `capacity` items pushed. */
class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

interface LogContainer {
  readonly name?: string | undefined;
  readonly essential?: boolean | undefined;
  readonly logConfiguration?: {
    logDriver?: string | undefined;
    options?: Record<string, string> | undefined;
  };
}

/** Where the awslogs driver writes, per the task definition; the region when it names one. */
export interface LogLocation extends LogSource {
  readonly region?: string;
}

/**
 * The awslogs destination of the tenant's container in `containers` (`preferred`, else the first
 * essential container that logs to CloudWatch); undefined when none does, or without a stream prefix
 * (streams would be named by container id alone, which cannot be told apart per tenant).
 */
export function logLocationOf(
  containers: readonly LogContainer[],
  preferred: string,
): LogLocation | undefined {
  const awslogs = containers.filter((c) => c.logConfiguration?.logDriver === 'awslogs');
  const container = awslogs.find((c) => c.name === preferred) ?? awslogs.find((c) => c.essential !== false);
  const options = container?.logConfiguration?.options ?? {};
  const group = options['awslogs-group'];
  const prefix = options['awslogs-stream-prefix'];
  if (container?.name === undefined || group === undefined || prefix === undefined) return undefined;
  const region = options['awslogs-region'];
  return {
    group,
    streamPrefix: `${prefix}/${container.name}/`,
    ...(region !== undefined && { region }),
  };
}
