/**
 * The engine conformance suite: what every `WorkflowEngine` promises (engine.ts, context.ts,
 * run-observer.ts), checked against a real engine — steps, ends and idempotent starts, promises
 * and sleeps, cancellation, a workflow of no tenant, and restarts. An engine gets its tests by
 * implementing `EngineTarget` (conformance/target.ts) and calling `runEngineConformance` once per
 * configuration from a test file; tests of what only one engine does stay beside that engine.
 */
import { after, before, describe, test } from 'node:test';
import { cancelCases } from './conformance/cancellation.js';
import { genericWorkflowCases } from './conformance/generic-workflow.js';
import { promiseCases } from './conformance/promises.js';
import { restartCases } from './conformance/restarts.js';
import { stepCases } from './conformance/steps.js';
import type { ConformanceTest, EngineTarget } from './conformance/target.js';

export type { EngineOpenOptions, EngineTarget, EngineWorld } from './conformance/target.js';

export function runEngineConformance(target: EngineTarget): void {
  describe(`engine conformance [${target.name}]`, () => {
    before(async () => {
      await target.setup?.();
    });
    after(async () => {
      await target.teardown?.();
    });
    const it: ConformanceTest = (name, body) => {
      void test(name, async () => {
        const world = await target.world();
        try {
          await body(world);
        } finally {
          await world.cleanup();
        }
      });
    };
    stepCases(it);
    promiseCases(it);
    cancelCases(it);
    genericWorkflowCases(it);
    restartCases(it);
  });
}
