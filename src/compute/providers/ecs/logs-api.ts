/**
 * The subset of CloudWatch Logs that reading a tenant's output needs, and its adapter over
 * `@aws-sdk/client-cloudwatch-logs`. Only type imports of the SDK here: the module is loaded lazily
 * (by the client pool, on the first log request) and passed in. Every call forwards the caller's
 * AbortSignal.
 */
import type * as LogsSdk from '@aws-sdk/client-cloudwatch-logs';

export type LogsModule = typeof LogsSdk;

export interface LogEventsQuery {
  readonly group: string;
  readonly streamPrefix: string;
  /** Epoch ms, inclusive. */
  readonly startTime?: number;
  /** Epoch ms, inclusive (CloudWatch returns nothing later). */
  readonly endTime?: number;
  readonly nextToken?: string;
}

export interface LogEvent {
  readonly eventId: string;
  /** Epoch ms the line was written (as the log driver recorded it). */
  readonly timestamp: number;
  readonly message: string;
}

export interface LogEventsPage {
  readonly events: readonly LogEvent[];
  /** More events (or more of the range to scan) remain: ask again with it. */
  readonly nextToken?: string;
}

export interface LogsApi {
  /** One page of FilterLogEvents over the streams starting with `streamPrefix`, oldest first. */
  filterLogEvents(query: LogEventsQuery, signal: AbortSignal): Promise<LogEventsPage>;
}

export function sdkLogsApi(sdk: LogsModule, client: LogsSdk.CloudWatchLogsClient): LogsApi {
  return {
    async filterLogEvents(query, signal) {
      const input: LogsSdk.FilterLogEventsCommandInput = {
        logGroupName: query.group,
        logStreamNamePrefix: query.streamPrefix,
        ...(query.startTime !== undefined && { startTime: query.startTime }),
        ...(query.endTime !== undefined && { endTime: query.endTime }),
        ...(query.nextToken !== undefined && { nextToken: query.nextToken }),
      };
      const out = await client.send(new sdk.FilterLogEventsCommand(input), { abortSignal: signal });
      const events = (out.events ?? []).flatMap((e): LogEvent[] =>
        e.timestamp === undefined
          ? []
          : [{ eventId: e.eventId ?? '', timestamp: e.timestamp, message: e.message ?? '' }],
      );
      return { events, ...(out.nextToken !== undefined && { nextToken: out.nextToken }) };
    },
  };
}
