/**
 * Runs one provider call under a deadline and an external stop signal. The provider gets an
 * AbortSignal that fires on either; the returned promise settles at the deadline even when the
 * provider ignores its signal (the call is raced, its late outcome discarded).
 */
import { ComputeError } from '../domain/compute-error.js';

/** The call was given up for a reason other than its deadline (shutdown, lost lease). */
export class CallAbandonedError extends Error {
  constructor(readonly reason: string) {
    super(`provider call abandoned: ${reason}`);
    this.name = 'CallAbandonedError';
  }
}

export interface CallOptions {
  readonly timeoutMs: number;
  /** Describes the call in the timeout message (`fake provision`). */
  readonly what: string;
  /** Aborting it abandons the call: rejects with CallAbandonedError carrying the abort reason. */
  readonly stop?: AbortSignal;
}

/** setTimeout fires at once beyond this (32-bit signed ms); longer deadlines are clamped. */
const MAX_TIMER_MS = 2_147_483_647;

export async function callWithTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  options: CallOptions,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reject(
          new ComputeError(
            'PROVIDER_TIMEOUT',
            `${options.what} did not finish within ${options.timeoutMs} ms`,
          ),
        );
        controller.abort(new Error('timeout'));
      },
      Math.min(options.timeoutMs, MAX_TIMER_MS),
    );
    onStop = () => {
      reject(new CallAbandonedError(stopReason(options.stop)));
      controller.abort(new Error('abandoned'));
    };
    if (options.stop?.aborted) onStop();
    else options.stop?.addEventListener('abort', onStop, { once: true });
  });
  try {
    if (controller.signal.aborted) return await deadline;
    return await Promise.race([Promise.resolve().then(() => fn(controller.signal)), deadline]);
  } finally {
    clearTimeout(timer);
    if (onStop) options.stop?.removeEventListener('abort', onStop);
  }
}

function stopReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'stopped';
}
