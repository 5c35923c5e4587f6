/**
 * A small stateful CloudWatch Logs for tests, behind `aws-sdk-client-mock`: log groups of streams
 * of events, and FilterLogEvents as the real API answers it — events of the streams matching a
 * prefix, interleaved by time, `startTime`/`endTime` inclusive, pages of `pageSize` events with an
 * opaque `nextToken`, a missing group as ResourceNotFoundException, `$metadata` on every output.
 * `inject` makes the next calls throw. The fake ECS writes its tasks' start lines here.
 */
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  ResourceNotFoundException,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { metadata } from './fake-task-definitions.js';

interface StoredEvent {
  readonly eventId: string;
  readonly stream: string;
  readonly timestamp: number;
  readonly message: string;
  readonly seq: number;
}

export class FakeCloudWatchLogs {
  readonly mock = mockClient(CloudWatchLogsClient);
  readonly calls: FilterLogEventsCommandInput[] = [];
  /** Events per FilterLogEvents page (the real API: up to 10 000 or 1 MB). */
  pageSize = 50;
  private readonly groups = new Map<string, StoredEvent[]>();
  private readonly injected: (Error | null)[] = [];
  private seq = 0;

  constructor(groups: readonly string[] = []) {
    for (const group of groups) this.createGroup(group);
    this.mock.on(FilterLogEventsCommand).callsFake(async (input: FilterLogEventsCommandInput) => {
      this.calls.push(structuredClone(input));
      const error = this.injected.shift();
      if (error !== undefined && error !== null) throw error;
      return this.filter(input);
    });
  }

  restore(): void {
    this.mock.restore();
  }

  /** The next FilterLogEvents calls throw these errors in turn; `null` lets one through. */
  inject(...errors: (Error | null)[]): void {
    this.injected.push(...errors);
  }

  createGroup(group: string): void {
    if (!this.groups.has(group)) this.groups.set(group, []);
  }

  /** Writes one event, as the awslogs driver does; the group must exist (the driver fails otherwise). */
  put(group: string, stream: string, message: string, timestamp = Date.now()): void {
    const events = this.groups.get(group);
    if (events === undefined) return;
    const seq = ++this.seq;
    events.push({ eventId: String(seq).padStart(56, '0'), stream, timestamp, message, seq });
  }

  /** Every stored event of `group` whose stream starts with `prefix`, in time order. */
  eventsOf(group: string, prefix = ''): { stream: string; message: string; timestamp: number }[] {
    return this.sorted(group).filter((e) => e.stream.startsWith(prefix));
  }

  private sorted(group: string): StoredEvent[] {
    return [...(this.groups.get(group) ?? [])].sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  }

  private filter(input: FilterLogEventsCommandInput) {
    const group = input.logGroupName ?? '';
    if (!this.groups.has(group)) {
      throw new ResourceNotFoundException({
        message: 'The specified log group does not exist.',
        $metadata: metadata(400),
      });
    }
    const after = input.nextToken === undefined ? undefined : parseToken(input.nextToken);
    const matching = this.sorted(group).filter(
      (e) =>
        e.stream.startsWith(input.logStreamNamePrefix ?? '') &&
        (input.startTime === undefined || e.timestamp >= input.startTime) &&
        (input.endTime === undefined || e.timestamp <= input.endTime) &&
        (after === undefined || e.timestamp > after.ts || (e.timestamp === after.ts && e.seq > after.seq)),
    );
    const page = matching.slice(0, this.pageSize);
    const last = page.at(-1);
    return {
      events: page.map((e) => ({
        logStreamName: e.stream,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.timestamp + 1,
        eventId: e.eventId,
      })),
      searchedLogStreams: [],
      ...(matching.length > page.length && last !== undefined && { nextToken: token(last) }),
      $metadata: metadata(200),
    };
  }
}

function token(event: StoredEvent): string {
  return Buffer.from(JSON.stringify({ ts: event.timestamp, seq: event.seq })).toString('base64');
}

function parseToken(value: string): { ts: number; seq: number } {
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as { ts: number; seq: number };
}
