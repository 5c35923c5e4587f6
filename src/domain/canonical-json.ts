/**
 * Canonical JSON (sorted keys, no whitespace) and its SHA-256: the config hash that execution ids,
 * run records and "did the spec really change?" comparisons rely on. Pure; `node:crypto` only hashes.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Short, stable hash of any JSON value (16 hex chars = 64 bits; collisions are not a concern per tenant). */
export function configHash(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, 16);
}

export function deepEqualJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
