/**
 * What an engine offers the conformance suite (engine-conformance.ts): a target makes isolated
 * worlds, and a world opens engines in it. Nothing here knows tenants: the suite's runs carry tags
 * of their own, and no world holds a tenant row.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowDefinition } from '../../context.js';
import type { StartRunRequest, WorkflowEngine } from '../../engine.js';
import type { RunObserver } from '../../run-observer.js';

export interface EngineTarget {
  /** Shown in the suite's name, e.g. `embedded [sqlite]`. */
  readonly name: string;
  /** Once before the suite's tests (e.g. start a restate-server). */
  setup?(): Promise<void>;
  /** Once after them. */
  teardown?(): Promise<void>;
  /** A fresh world: no run of another test is visible in it, or claimed from it. */
  world(): Promise<EngineWorld>;
}

export interface EngineOpenOptions {
  readonly observer?: RunObserver;
  /**
   * Opens the engine as a restart of `previous`, which the test closed: the same deployment on
   * the same data, as a new process of it would be.
   */
  readonly restartOf?: WorkflowEngine;
}

export interface EngineWorld {
  /** An open engine with these definitions; every engine is closed (without grace) by `cleanup`. */
  engine(
    definitions: readonly WorkflowDefinition<never, unknown>[],
    options?: EngineOpenOptions,
  ): Promise<WorkflowEngine>;
  cleanup(): Promise<void>;
}

/** Registers one conformance test; its body gets a world of its own. */
export type ConformanceTest = (name: string, body: (world: EngineWorld) => Promise<void>) => void;

/** A start request with a fresh run id, tagged with a subject of the suite's own. */
export function startRequest(
  workflow: string,
  input: unknown = null,
  tags: Record<string, string> = {},
): StartRunRequest {
  const id = randomUUID().slice(0, 8);
  return { runId: `${workflow}-${id}`, workflow, input, tags: { subject: `test:${id}`, ...tags } };
}
