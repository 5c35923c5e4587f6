/**
 * A plan: an admin-owned, versioned template of a tenant spec — the product tier ("free", "pro")
 * tenants are made from. Every change is a new, immutable revision; a tenant pins the revision it
 * was made from (`spec.plan`), so changing a plan never changes a running tenant by itself.
 *
 * A tenant made from a plan holds only its overrides in `spec.config`; its effective config is the
 * overrides merged (JSON merge patch) onto the plan revision's config. `allowedOverrides` lists the
 * JSON Pointer prefixes of `config` such a tenant may set.
 */
import type { RetryPolicyOverride } from './retry-policy.js';
import type { JsonObject, JsonValue } from './tenant.js';

export const PLAN_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface PlanSpec {
  readonly provider: string;
  readonly config: JsonObject;
  readonly retryPolicy: RetryPolicyOverride | null;
}

/** What a plan revision holds: everything a writer sets. */
export interface PlanContent {
  readonly description: string;
  readonly spec: PlanSpec;
  readonly allowedOverrides: readonly string[];
}

export interface Plan extends PlanContent {
  readonly name: string;
  /** The latest revision for a plan, the revision itself for a plan revision. */
  readonly revision: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One immutable revision of a plan. */
export interface PlanRevision extends PlanContent {
  readonly name: string;
  readonly revision: number;
  readonly actor: string;
  readonly createdAt: string;
}

/**
 * RFC 7386 JSON merge patch of `patch` onto `target`: objects merge key by key, `null` removes a
 * key, anything else replaces. Pure.
 */
export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const base: Record<string, JsonValue> = {};
  if (isObject(target)) for (const [key, value] of Object.entries(target)) define(base, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else define(base, key, mergePatch(own(base, key), value));
  }
  return base;
}

/** Own data property even for keys such as `__proto__`, so a patch can never reach a prototype. */
function define(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function own(object: Record<string, JsonValue>, key: string): JsonValue | undefined {
  return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
}

/** A plan tenant's config as it runs: its overrides merged onto the plan revision's config. */
export function planConfig(planConfigBase: JsonObject, overrides: JsonObject): JsonObject {
  return mergePatch(planConfigBase, overrides) as JsonObject;
}

/** RFC 6901 pointer of a path: `['env', 'a/b']` → `/env/a~1b`. */
export function pointerOf(path: readonly string[]): string {
  return path.map((p) => `/${p.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/**
 * The leaf paths an override sets (a `null` removing a key is a leaf too), as JSON Pointers
 * relative to `config`, that no prefix of `allowed` covers. `/env` covers `/env` and `/env/…`;
 * `""` or `/` covers everything.
 */
export function overridesOutside(overrides: JsonObject, allowed: readonly string[]): string[] {
  const covered = (pointer: string) =>
    allowed.some(
      (prefix) => prefix === '' || prefix === '/' || pointer === prefix || pointer.startsWith(`${prefix}/`),
    );
  return leafPointers(overrides, []).filter((pointer) => !covered(pointer));
}

function leafPointers(value: JsonValue, path: readonly string[]): string[] {
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, item]) => leafPointers(item, [...path, key]));
  }
  return path.length === 0 ? [] : [pointerOf(path)];
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value);
}
