/**
 * JSON Schema 2020-12 validation of provider configs (Ajv). Schemas are compiled once per provider.
 * Problems name the field as the user wrote it: `spec.config.<path>`; unknown fields (schemas use
 * `additionalProperties: false`) are reported on the unknown field itself.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { FieldProblem } from '../domain/errors.js';
import type { JsonSchema } from './provider.js';

export const CONFIG_PATH_PREFIX = 'spec.config';

export type ConfigValidator = (config: unknown) => readonly FieldProblem[];

/** Compiles `schema`; throws when the schema itself is invalid (a provider bug, caught at start-up). */
export function compileConfigSchema(schema: JsonSchema): ConfigValidator {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  formatsModule.default(ajv);
  const validate: ValidateFunction = ajv.compile(schema);
  return (config) => (validate(config) ? [] : (validate.errors ?? []).map(toProblem));
}

function toProblem(error: ErrorObject): FieldProblem {
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    return { path: configPath([...segments, params.additionalProperty]), message: 'unknown field' };
  }
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { path: configPath([...segments, params.missingProperty]), message: 'is required' };
  }
  return { path: configPath(segments), message: error.message ?? 'is invalid' };
}

/** `['ports', '0', 'hostPort']` → `spec.config.ports.0.hostPort`. */
export function configPath(segments: readonly string[]): string {
  return [CONFIG_PATH_PREFIX, ...segments].join('.');
}

/** Provider problems are relative to `spec.config` (`port`); already-qualified paths are kept. */
export function qualifyProblem(problem: FieldProblem): FieldProblem {
  if (problem.path === CONFIG_PATH_PREFIX || problem.path.startsWith(`${CONFIG_PATH_PREFIX}.`))
    return problem;
  return {
    ...problem,
    path: problem.path === '' ? CONFIG_PATH_PREFIX : `${CONFIG_PATH_PREFIX}.${problem.path}`,
  };
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
