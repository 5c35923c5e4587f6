/**
 * How a step's failure is journaled and given back to workflow code (pure, shared by every engine).
 * An error is stored as `{name, message, details}`; workflow code always receives the error rebuilt
 * from that stored form, so its behaviour is the same on first execution and on replay.
 */
import { StoreUnavailableError } from '../domain/errors.js';
import { RunCancelledError, StepFailedError, TerminalWorkflowError } from './context.js';

export interface SerializedError {
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
    return { name: error.errorName, message: error.message, details: safeJson(error.details) };
  }
  if (error instanceof Error) {
    return { name: error.name, message: error.message, details: safeJson(detailsOf(error)) };
  }
  return { name: 'Error', message: String(error), details: null };
}

/** Rebuilds what workflow code sees from the journaled form. */
export function errorFromJournal(runId: string, stepName: string, stored: SerializedError): Error {
  if (stored.name === 'TerminalWorkflowError')
    return new TerminalWorkflowError(stored.message, stored.details);
  if (stored.name === 'RunCancelledError') return new RunCancelledError(runId);
  return new StepFailedError(stepName, stored.name, stored.message, stored.details);
}

/** Reads a stored error back, tolerating rows written by hand or by older versions. */
export function readSerializedError(value: unknown): SerializedError {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    return {
      name: typeof record.name === 'string' ? record.name : 'Error',
      message: typeof record.message === 'string' ? record.message : JSON.stringify(value),
      details: record.details ?? null,
    };
  }
  return { name: 'Error', message: String(value), details: null };
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
