/**
 * A tenant spec as YAML text for reading and editing (secret values arrive from the server as
 * "***" and, sent back unchanged, keep their stored value), and back from YAML to the shape the API
 * accepts. Parsing errors name the line.
 */
import { parse, stringify } from 'yaml';
import type { TenantSpec, TenantSpecInput } from '../../../src/api/types.js';

export function specToYaml(spec: TenantSpec | TenantSpecInput): string {
  return stringify(spec, { indent: 2, lineWidth: 0, sortMapEntries: false });
}

/** Parses an edited spec: a mapping is required; the server validates its fields. */
export function yamlToSpec(text: string): TenantSpecInput {
  const value: unknown = parse(text, { prettyErrors: true, uniqueKeys: true });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('the spec must be a YAML mapping (provider, config, labels, …)');
  }
  return value;
}

export function yamlToObject(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const value: unknown = parse(text, { prettyErrors: true, uniqueKeys: true });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('expected a YAML mapping');
  return value as Record<string, unknown>;
}
