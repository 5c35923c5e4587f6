/** Errors of the fake API and the few spec checks the CLI tests need. */
import type { Tenant } from '../../api/types.js';
import type { ProblemCode } from '../../domain/errors.js';

export class FakeProblem extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly status: number,
    message: string,
    readonly errors: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

const SPEC_KEYS = ['provider', 'plan', 'config', 'labels', 'annotations', 'retryPolicy', 'paused'];
export const FAKE_PROVIDERS = ['fake', 'docker', 'process'];

export function validation(errors: { path: string; message: string }[]): FakeProblem {
  const first = errors[0];
  return new FakeProblem(
    'VALIDATION_FAILED',
    400,
    first ? `${first.path}: ${first.message}` : 'invalid',
    errors,
  );
}

/** Object shape, unknown keys, provider, docker's image, process's command. */
export function checkSpec(input: unknown): Tenant['spec'] {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw validation([{ path: 'spec', message: 'expected object' }]);
  const spec = input as Json;
  const unknown = Object.keys(spec).filter((k) => !SPEC_KEYS.includes(k));
  if (unknown.length > 0)
    throw validation(unknown.map((k) => ({ path: `spec.${k}`, message: 'unknown field' })));
  const provider = typeof spec.provider === 'string' ? spec.provider : 'fake';
  if (!FAKE_PROVIDERS.includes(provider))
    throw validation([{ path: 'spec.provider', message: `unknown provider '${provider}'` }]);
  const config = (spec.config ?? {}) as Json;
  if (provider === 'docker' && typeof config.image !== 'string')
    throw validation([{ path: 'spec.config.image', message: 'is required' }]);
  if (provider === 'process' && !Array.isArray(config.command))
    throw validation([{ path: 'spec.config.command', message: 'is required' }]);
  return {
    provider,
    plan: (spec.plan ?? null) as Tenant['spec']['plan'],
    config,
    labels: (spec.labels ?? {}) as Record<string, string>,
    annotations: (spec.annotations ?? {}) as Record<string, string>,
    retryPolicy: (spec.retryPolicy ?? null) as Json | null,
    paused: spec.paused === true,
  };
}
