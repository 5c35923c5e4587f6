/**
 * How a step's failure, and a run's, is journaled and given back to workflow code (pure, shared by
 * every engine). An error is stored as `{kind, name, message, details}`: `kind` says what it means
 * to the engine (what to rebuild on replay), `name` is the original error's, for people; workflow
 * code always receives the error rebuilt from that stored form, so its behaviour is the same on
 * first execution and on replay.
 */
import { StoreUnavailableError } from '../domain/errors.js';
import { NonDeterminismError, RunCancelledError, StepFailedError, TerminalWorkflowError } from './context.js';

export type ErrorKind =
  /** Any error of workflow code or a step: rethrown to workflow code as `StepFailedError`. */
  | 'error'
  /** `TerminalWorkflowError`: fails the run, no retries. */
  | 'terminal'
  /** The run was cancelled (`RunCancelledError`). */
  | 'cancelled'
  /** The code no longer matches the run's journal (`NonDeterminismError`). */
  | 'non-determinism';

const KINDS: ReadonlySet<string> = new Set<ErrorKind>(['error', 'terminal', 'cancelled', 'non-determinism']);

export interface SerializedError {
  readonly kind: ErrorKind;
  readonly name: string;
  readonly message: string;
  readonly details: unknown;
}

const NOT_DETAILS = new Set(['name', 'message', 'stack', 'cause']);

/**
 * JSON round trip: what a value looks like after the journal stored and loaded it. `undefined`
 * becomes `null`. Throws (TypeError) on values JSON cannot hold, e.g. cycles or BigInt.
 */
export function toJournalValue(value: unknown): unknown {
  if (value === undefined) return null;
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

/**
 * A step that threw because Lessor's own store could not serve did not fail on its merits, and the
 * journal write after it would meet the same store: such an error is never journaled as the step's
 * outcome. The engine stops the attempt instead and runs the step again later, as after a crash.
 */
export function failedOnTheStore(error: unknown): boolean {
  return error instanceof StoreUnavailableError;
}

/** The journaled form of any thrown value. Details that JSON cannot hold are dropped, never thrown. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof StepFailedError) {
    const { errorName: name, message, details } = error;
    return { kind: 'error', name, message, details: safeJson(details) };
  }
  if (error instanceof Error) {
    return {
      kind: kindOf(error),
      name: error.name,
      message: error.message,
      details: safeJson(detailsOf(error)),
    };
  }
  return { kind: 'error', name: 'Error', message: String(error), details: null };
}

/** The stored form of a cancellation, with the reason given to `cancel`. */
export function cancellationError(reason: string): SerializedError {
  return { kind: 'cancelled', name: 'RunCancelledError', message: reason, details: null };
}

/** Rebuilds what workflow code sees from the journaled form. */
export function errorFromJournal(runId: string, stepName: string, stored: SerializedError): Error {
  switch (stored.kind) {
    case 'terminal':
      return new TerminalWorkflowError(stored.message, stored.details);
    case 'cancelled':
      return new RunCancelledError(runId);
    default:
      return new StepFailedError(stepName, stored.name, stored.message, stored.details);
  }
}

/**
 * Reads a stored error back, tolerating rows written by hand or by older versions. Entries
 * journaled before errors had a `kind` (workflow_steps rows, Restate journals of runs in flight
 * across the upgrade) get the kind their error class meant then.
 */
export function readSerializedError(value: unknown): SerializedError {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const name = typeof record.name === 'string' ? record.name : 'Error';
    return {
      kind:
        typeof record.kind === 'string' && KINDS.has(record.kind)
          ? (record.kind as ErrorKind)
          : legacyKind(name),
      name,
      message: typeof record.message === 'string' ? record.message : JSON.stringify(value),
      details: record.details ?? null,
    };
  }
  return { kind: 'error', name: 'Error', message: String(value), details: null };
}

function kindOf(error: Error): ErrorKind {
  if (error instanceof TerminalWorkflowError) return 'terminal';
  if (error instanceof RunCancelledError) return 'cancelled';
  if (error instanceof NonDeterminismError) return 'non-determinism';
  return 'error';
}

const LEGACY_KINDS: Readonly<Record<string, ErrorKind>> = {
  TerminalWorkflowError: 'terminal',
  RunCancelledError: 'cancelled',
  NonDeterminismError: 'non-determinism',
};

function legacyKind(name: string): ErrorKind {
  return LEGACY_KINDS[name] ?? 'error';
}

function detailsOf(error: Error): unknown {
  if ('details' in error) return (error as { details: unknown }).details;
  const fields = Object.entries(error).filter(([key]) => !NOT_DETAILS.has(key));
  return fields.length === 0 ? null : Object.fromEntries(fields);
}

function safeJson(value: unknown): unknown {
  try {
    return toJournalValue(value);
  } catch {
    return null;
  }
}
