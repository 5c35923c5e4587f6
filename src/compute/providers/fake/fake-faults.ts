/**
 * Fault injection for the fake provider (docs/providers/fake.md: fail N times, hang, ambiguous success,
 * partial failure, rate limited). Each fault counts its own evaluations per execution id + operation in the
 * engine, so retries of one execution see "first call fails, later calls succeed".
 */
import type { ComputeRequest } from '../../provider.js';
import { FakeEngineError, type FakeEngine } from './fake-engine.js';
import type { FakeConfig, FakeFaults, FakeOperation } from './fake-schema.js';

function faultsFor(operation: FakeOperation, request: ComputeRequest): FakeFaults | undefined {
  const faults = (request.config as FakeConfig).faults;
  if (!faults) return undefined;
  const applies = faults.failOperations === undefined || faults.failOperations.includes(operation);
  return applies ? faults : undefined;
}

/** Throws (or hangs) as configured, before the engine does any work. */
export async function injectFaultsBeforeWork(
  engine: FakeEngine,
  operation: FakeOperation,
  request: ComputeRequest,
  signal: AbortSignal,
): Promise<void> {
  const faults = faultsFor(operation, request);
  if (!faults) return;
  const bump = (fault: string): number => engine.bumpFault(request.executionId, operation, fault);
  if (faults.hang) await hang(signal, faults.ignoreAbort === true);
  if (faults.nonRetriable) {
    const image = (request.config as FakeConfig).image;
    throw image !== undefined
      ? new FakeEngineError('IMAGE_UNAVAILABLE', `image ${image} not found in the fake registry`)
      : new FakeEngineError('INVALID_CONFIG', 'the fake engine rejected the config');
  }
  if (faults.rateLimitedMs !== undefined && bump('rateLimited') === 1) {
    throw new FakeEngineError('RATE_LIMITED', 'fake engine: too many requests', {
      retryAfterMs: faults.rateLimitedMs,
    });
  }
  if (faults.failTimes !== undefined && faults.failTimes > 0 && bump('failTimes') <= faults.failTimes) {
    const code = faults.failCode ?? 'PROVIDER_TEMPORARILY_UNAVAILABLE';
    throw new FakeEngineError(code, `fake engine: injected ${code}`);
  }
}

/** Ambiguous success: the work is done, then the "response is lost" once. */
export function injectFaultsAfterWork(
  engine: FakeEngine,
  operation: FakeOperation,
  request: ComputeRequest,
): void {
  const faults = faultsFor(operation, request);
  if (faults?.ambiguous && engine.bumpFault(request.executionId, operation, 'ambiguous') === 1) {
    throw new FakeEngineError('PROVIDER_TIMEOUT', 'fake engine: connection reset after the request was sent');
  }
}

/** True on the first provision of this execution when `partial` is set. */
export function partialFaultDue(engine: FakeEngine, request: ComputeRequest): boolean {
  const faults = faultsFor('provision', request);
  return faults?.partial === true && engine.bumpFault(request.executionId, 'provision', 'partial') === 1;
}

function hang(signal: AbortSignal, ignoreAbort: boolean): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (ignoreAbort) return;
    const abort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
  });
}
