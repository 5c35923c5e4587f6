/**
 * Fixtures for compute-manager tests: a manager over a fake provider (engine injectable), tenant
 * specs, start requests, a polling wait, and a logger that records what it was given.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../domain/logger.js';
import { testHasher } from '../../domain/testing/test-hasher.js';
import type { ComputeOperation, ExecutionStatus, JsonObject, TenantSpec } from '../../domain/tenant.js';
import type { ExecutionView, StartComputeRequest } from '../compute-api.js';
import { ComputeManager, type ComputeManagerOptions } from '../compute-manager.js';
import type { ExecutionLedger } from '../execution-ledger.js';
import type { TenantLookup } from '../orphan-recovery.js';
import { createProviderRegistry, type ProviderRegistry } from '../provider-registry.js';
import type { ComputeProvider } from '../provider.js';
import { FakeEngine, FakeProvider } from '../providers/fake/index.js';
import type { TestTenant } from './ledger-backends.js';

export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export function fakeSpec(config: JsonObject = { image: 'app:1' }): TenantSpec {
  return { provider: 'fake', config, labels: {}, annotations: {}, retryPolicy: null, paused: false };
}

export function startRequest(
  tenant: TestTenant,
  operation: ComputeOperation = 'provision',
  generation = 1,
  extra: Partial<StartComputeRequest> = {},
): StartComputeRequest {
  return {
    tenant,
    operation,
    generation,
    workflowRunId: `${tenant.id}:${operation}:g${generation}`,
    ...extra,
  };
}

export function fakeRegistry(
  provider: ComputeProvider,
  timeoutMs = 5_000,
  logger?: Logger,
): ProviderRegistry {
  return createProviderRegistry(
    [
      {
        provider,
        settings: {
          options: {},
          defaults: {},
          timeoutMs,
          dataDir: '',
          logger: logger ?? recordingLogger().logger,
          hasher: testHasher,
        },
      },
    ],
    { defaultProvider: provider.type },
  );
}

export interface ManagerFixture {
  readonly manager: ComputeManager;
  readonly engine: FakeEngine;
  readonly provider: FakeProvider;
}

export function fakeManager(
  ledger: ExecutionLedger,
  options: Partial<Omit<ComputeManagerOptions, 'ledger'>> & {
    engine?: FakeEngine;
    latencyMs?: number;
    tenants?: TenantLookup;
  } = {},
): ManagerFixture {
  const { engine = new FakeEngine(), latencyMs = 0, registry, instanceId, ...rest } = options;
  const provider = new FakeProvider({ engine, latencyMs });
  const manager = new ComputeManager({
    ...rest,
    ledger,
    registry: registry ?? fakeRegistry(provider),
    hasher: rest.hasher ?? testHasher,
    instanceId: instanceId ?? uniqueName('instance'),
  });
  return { manager, engine, provider };
}

/** Polls `get` until the execution reaches one of `statuses` (default: settled). */
export async function waitForStatus(
  manager: ComputeManager,
  executionId: string,
  statuses: readonly ExecutionStatus[] = ['succeeded', 'failed'],
  timeoutMs = 10_000,
): Promise<ExecutionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await manager.get(executionId);
    if (view && statuses.includes(view.status)) return view;
    if (Date.now() > deadline)
      throw new Error(
        `execution ${executionId} is ${view?.status ?? 'missing'}, wanted ${statuses.join('|')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

/** A Logger that keeps every record (child bindings merged into the fields). */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: LogRecord['level']) =>
      (objOrMsg: object | string, msg?: string): void => {
        if (typeof objOrMsg === 'string') records.push({ level, fields: { ...bindings }, msg: objOrMsg });
        else
          records.push({
            level,
            fields: { ...bindings, ...(objOrMsg as Record<string, unknown>) },
            msg: msg ?? '',
          });
      };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return { logger: make({}), records };
}
