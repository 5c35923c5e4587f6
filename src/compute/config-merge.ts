/**
 * Provider defaults merged UNDER `spec.config`, so a tenant's own value always wins and a changed
 * default reaches every tenant at its next update (docs/api.md, "Tenants"). Pure.
 * Objects merge key by key, recursively; arrays, scalars and null given in the spec replace the
 * default wholesale (a user's `command` or `ports` list is never spliced into the default one).
 */
import type { JsonObject, JsonValue } from '../domain/tenant.js';

export function mergeDefaults(defaults: JsonObject, config: JsonObject): JsonObject {
  const merged: Record<string, JsonValue> = { ...defaults };
  for (const [key, value] of Object.entries(config)) {
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? mergeDefaults(base, value) : value;
  }
  return merged;
}

export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
