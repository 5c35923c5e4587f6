/**
 * Who may write which provider-config fields, read from annotations in the provider's config
 * schema (found by walking `properties`, nested objects included; `$ref` is not followed, so
 * providers annotate inline, as they do secrets). Admins may write anything; for everyone else:
 *
 * - `"x-lessor-privileged": true`: only an admin may set or change the field (the process
 *   provider's `command` and `cwd`, which run as Lessor's own user). A non-admin's write passes when
 *   the field is left out (the provider's admin-configured `defaults` apply), equals the default, or
 *   is unchanged from the stored spec — so an operator may still change the env of a tenant whose
 *   command an admin set.
 * - `"x-lessor-code": true`: the field decides what code runs with the tenant's env (image,
 *   command, cwd, task definition, volumes). A non-admin who changes the code a tenant runs while a
 *   stored secret is kept without being sent — `"***"` read back, or left out of a merge patch — is
 *   refused: the new code could print a secret its author cannot read. Re-sending the secret values
 *   (or dropping them) passes, and so does an admin.
 *
 * A map property (an env) may instead carry `"x-lessor-privileged-keys"` / `"x-lessor-code-keys"`:
 * a regular expression; its entries whose key matches are such fields (loader hooks such as
 * `NODE_OPTIONS`, see src/compute/code-env.ts). Both refusals are 403 FORBIDDEN naming the fields;
 * nothing is stored.
 */
import { mergeDefaults } from '../compute/config-merge.js';
import { configPath } from '../compute/config-validator.js';
import type { JsonSchema } from '../compute/provider.js';
import { REDACTED, SECRET_KEYWORD } from '../compute/secrets.js';
import { deepEqualJson } from '../domain/canonical-json.js';
import type { JsonObject, JsonValue } from '../domain/tenant.js';
import type { ProviderCatalog } from './api-deps.js';
import type { Principal } from './auth.js';
import { httpError } from './problem.js';

export const PRIVILEGED_KEYWORD = 'x-lessor-privileged';
export const CODE_KEYWORD = 'x-lessor-code';

export interface SpecWrite {
  readonly principal: Principal;
  readonly provider: string;
  /** The config that would be stored (placeholders already replaced by the stored secrets). */
  readonly next: JsonObject;
  /** The stored config, when an existing tenant changes. */
  readonly previous?: JsonObject | undefined;
  /** `spec.config` as the client sent it (a merge patch sends only part of it). */
  readonly sent: JsonValue | undefined;
}

type Path = readonly string[];

/** Throws 403 FORBIDDEN when a non-admin's write touches what only an admin may (see above). */
export function assertSpecPrivileges(providers: ProviderCatalog, write: SpecWrite): void {
  if (write.principal.role === 'admin') return;
  const schema = providers.schema(write.provider);
  if (!schema) return;
  const defaults = providers.list().find((p) => p.type === write.provider)?.defaults ?? {};
  assertNoPrivilegedChange(schema, defaults, write);
  if (write.previous !== undefined) assertNoSecretHandedToNewCode(schema, defaults, write, write.previous);
}

function assertNoPrivilegedChange(schema: JsonSchema, defaults: JsonObject, write: SpecWrite): void {
  const refused = markedPaths(schema, PRIVILEGED_KEYWORD, [write.next]).filter((path) => {
    const value = valueAt(write.next, path);
    if (value === undefined || deepEqualJson(value, valueAt(defaults, path))) return false;
    return write.previous === undefined || !deepEqualJson(value, valueAt(write.previous, path));
  });
  if (refused.length === 0) return;
  const fields = refused.map((path) => configPath(path));
  throw httpError('FORBIDDEN', `${fields.join(', ')} may only be set by an admin`, {
    problems: fields.map((field) => ({ path: field, message: 'may only be set by an admin' })),
  });
}

function assertNoSecretHandedToNewCode(
  schema: JsonSchema,
  defaults: JsonObject,
  write: SpecWrite,
  previous: JsonObject,
): void {
  const before = mergeDefaults(defaults, previous);
  const after = mergeDefaults(defaults, write.next);
  const changed = markedPaths(schema, CODE_KEYWORD, [before, after]).filter(
    (path) => !deepEqualJson(valueAt(before, path), valueAt(after, path)),
  );
  if (changed.length === 0) return;
  const kept = keptSecrets(schema, write, previous);
  if (kept.length === 0) return;
  const code = changed.map((path) => configPath(path));
  const secrets = kept.map((path) => configPath(path));
  throw httpError(
    'FORBIDDEN',
    `changing ${code.join(', ')} while keeping the stored ${secrets.join(', ')} needs an admin: ` +
      're-send the secret values or ask an admin',
    {
      problems: [
        ...code.map((path) => ({ path, message: 'changes the code that runs with the stored secrets' })),
        ...secrets.map((path) => ({ path, message: 'kept from the stored spec without being re-sent' })),
      ],
    },
  );
}

/** Secret strings of `next` that are the stored ones and were not sent in plain by the client. */
function keptSecrets(schema: JsonSchema, write: SpecWrite, previous: JsonObject): Path[] {
  return markedPaths(schema, SECRET_KEYWORD, [])
    .flatMap((path) => stringLeaves(valueAt(write.next, path), path))
    .filter(({ path, value }) => {
      if (valueAt(previous, path) !== value) return false;
      const sent = valueAt(write.sent, path);
      return typeof sent !== 'string' || sent === REDACTED;
    })
    .map(({ path }) => path);
}

/**
 * Paths of the fields `keyword` marks: properties carrying `keyword: true` (not searched below), and
 * the entries of maps whose `<keyword>-keys` pattern matches the key, for the keys in `configs`.
 */
export function markedPaths(
  schema: JsonSchema,
  keyword: string,
  configs: readonly JsonObject[],
  prefix: Path = [],
): Path[] {
  const properties = schema.properties;
  if (!isObject(properties)) return [];
  return Object.entries(properties).flatMap(([key, sub]) => {
    if (!isObject(sub)) return [];
    const path = [...prefix, key];
    if (sub[keyword] === true) return [path];
    const keys = sub[`${keyword}-keys`];
    const entries = typeof keys === 'string' ? matchingEntries(configs, path, patternOf(keys)) : [];
    return [...entries, ...markedPaths(sub, keyword, configs, path)];
  });
}

function matchingEntries(configs: readonly JsonObject[], path: Path, pattern: RegExp): Path[] {
  const keys = new Set(configs.flatMap((config) => Object.keys(objectAt(config, path))));
  return [...keys].filter((key) => pattern.test(key)).map((key) => [...path, key]);
}

const patterns = new Map<string, RegExp>();

function patternOf(source: string): RegExp {
  let pattern = patterns.get(source);
  if (!pattern) {
    pattern = new RegExp(source, 'u');
    patterns.set(source, pattern);
  }
  return pattern;
}

function objectAt(config: JsonObject, path: Path): JsonObject {
  const value = valueAt(config, path);
  return isObject(value) ? value : {};
}

function valueAt(value: JsonValue | undefined, path: Path): JsonValue | undefined {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current)) current = (current as readonly JsonValue[])[Number(key)];
    else if (isObject(current) && Object.prototype.hasOwnProperty.call(current, key)) current = current[key];
    else return undefined;
  }
  return current;
}

/** Every string inside `value` (maps and lists walked) with its path. */
function stringLeaves(value: JsonValue | undefined, path: Path): { path: Path; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) {
    return (value as readonly JsonValue[]).flatMap((item, i) => stringLeaves(item, [...path, String(i)]));
  }
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
  return [];
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
