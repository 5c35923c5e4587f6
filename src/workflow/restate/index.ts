/**
 * Entry point of the `restate` engine for the composition root. Everything that loads the Restate
 * SDK is imported lazily here, after the `Promise.withResolvers` polyfill, so a deployment on the
 * embedded engine never loads the SDK. Types are re-exported (erased at run time).
 */
import type { WorkflowEngine } from '../engine.js';
import type { RestateEngineOptions } from './options.js';

export type { InvocationRetryPolicy, RestateEngineOptions, RestateStore } from './options.js';

/** A `restate` engine, with where Restate reaches it. */
export interface RestateEngine extends WorkflowEngine {
  readonly type: 'restate';
  readonly serviceName: string;
  /** Throws until `open` has bound the port. */
  readonly endpointUrl: string;
}

/** Builds the engine; call `open()` to serve the endpoint and register it with Restate. */
export async function createRestateEngine(options: RestateEngineOptions): Promise<RestateEngine> {
  await import('./promise-polyfill.js');
  await import('@restatedev/restate-sdk');
  const { RestateWorkflowEngine } = await import('./restate-engine.js');
  return new RestateWorkflowEngine(options);
}
