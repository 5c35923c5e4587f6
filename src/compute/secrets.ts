/**
 * Secret handling for provider configs and raw provider errors (docs/api.md, "Who may write which config
 * fields"; docs/architecture.md, "Compute"). Pure.
 *
 * A schema property marked `"x-lessor-secret": true` is secret: its value (for a map such as
 * `secretEnv`, every value of the map; keys stay visible) is shown as `"***"` and sealed in the
 * database (`mapSecretValues` is what both are built on). Secrets are found by
 * walking `properties` (nested objects included); `$ref` is not followed, so providers declare secret
 * fields inline.
 */
import type { JsonSchema } from './provider.js';
import type { JsonObject, JsonValue } from '../domain/tenant.js';
import { isPlainObject } from './config-merge.js';

export const REDACTED = '***';
export const SECRET_KEYWORD = 'x-lessor-secret';

/** Key names whose values are credentials wherever they appear in a raw error. */
const CREDENTIAL_KEY = /authorization|password|passwd|token|secret|credential|api[-_]?key|cookie/i;
const MAX_DEPTH = 5;
const MAX_ITEMS = 50;
const MAX_STRING = 4000;

/**
 * `config` with every secret value replaced by `fn(value)`; the input is not modified. A secret
 * field holding a map or a list has `fn` applied to each of its values (keys stay); any other
 * secret field to its whole value. What redaction, sealing at rest and erasure are made of.
 */
export function mapSecretValues(schema: JsonSchema, config: JsonObject, fn: SecretValueMap): JsonObject {
  const properties = schemaProperties(schema);
  const out: Record<string, JsonValue> = {};
  for (const key in config) {
    if (!Object.hasOwn(config, key)) continue;
    const value = config[key]!;
    const sub = properties[key];
    if (sub && sub[SECRET_KEYWORD] === true) out[key] = eachSecret(value, fn);
    // A subtree whose schema names no secret field is kept as it is (no copy of it to make).
    else if (sub && isPlainObject(value) && secretFieldNames(sub).length > 0) {
      out[key] = mapSecretValues(sub, value, fn);
    } else out[key] = value;
  }
  return out;
}

const secretNamesBySchema = new WeakMap<JsonSchema, readonly string[]>();

/**
 * The property names marked secret anywhere in `schema`'s `properties` (nested objects included),
 * as `mapSecretValues` finds them; computed once per schema. A config none of whose keys is one of
 * these has nothing for `mapSecretValues` to change.
 */
export function secretFieldNames(schema: JsonSchema): readonly string[] {
  let names = secretNamesBySchema.get(schema);
  if (names === undefined) {
    const found = new Set<string>();
    for (const [key, sub] of Object.entries(schemaProperties(schema))) {
      if (!isRecord(sub)) continue;
      if (sub[SECRET_KEYWORD] === true) found.add(key);
      else for (const name of secretFieldNames(sub)) found.add(name);
    }
    names = [...found];
    secretNamesBySchema.set(schema, names);
  }
  return names;
}

/**
 * Whether the JSON text of a config (or of a document holding it) may hold a value that
 * `mapSecretValues(schema, …)` — or without a schema `mapSecretsByKeyName` — would change. `false`
 * is a proof: every key of JSON text written by `JSON.stringify` appears as `"<key>"` (it escapes
 * no letter), so a secret key name absent from the text is absent from the object; text with any
 * `\u` escape, or without a schema a credential-like word anywhere, counts as possibly secret.
 */
export function mayHoldSecrets(schema: JsonSchema | undefined, text: string): boolean {
  if (text.includes('\\u')) return true;
  if (schema === undefined) return CREDENTIAL_KEY.test(text);
  let quoted = quotedNamesBySchema.get(schema);
  if (quoted === undefined) {
    quoted = secretFieldNames(schema).map((name) => JSON.stringify(name));
    quotedNamesBySchema.set(schema, quoted);
  }
  for (const name of quoted) if (text.includes(name)) return true;
  return false;
}

const quotedNamesBySchema = new WeakMap<JsonSchema, readonly string[]>();

/** Fallback when no schema is known: values of credential-named keys (any depth) are secret. */
export function mapSecretsByKeyName(config: JsonObject, fn: SecretValueMap): JsonObject {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(config)) {
    out[key] = CREDENTIAL_KEY.test(key)
      ? eachSecret(value, fn)
      : isPlainObject(value)
        ? mapSecretsByKeyName(value, fn)
        : value;
  }
  return out;
}

export type SecretValueMap = (value: JsonValue) => JsonValue;

/** `config` with every secret value replaced by `"***"`; the input is not modified. */
export function redactConfig(schema: JsonSchema, config: JsonObject): JsonObject {
  return mapSecretValues(schema, config, () => REDACTED);
}

/** Fallback when no schema is known: values of credential-named keys (any depth) become `"***"`. */
export function redactByKeyName(config: JsonObject): JsonObject {
  return mapSecretsByKeyName(config, () => REDACTED);
}

/** Every string found under a secret field of `config`: what must never appear in logs or errors. */
export function secretValues(schema: JsonSchema, config: JsonObject): string[] {
  const properties = schemaProperties(schema);
  const found: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    const sub = properties[key];
    if (sub && sub[SECRET_KEYWORD] === true) collectStrings(value, found);
    else if (sub && isPlainObject(value)) found.push(...secretValues(sub, value));
  }
  return found.filter((s) => s.length > 0);
}

/**
 * A raw provider error as plain JSON, safe to store and log: own fields (name, message, code,
 * status…) kept, stack dropped, credential-named keys and any known secret value replaced by
 * `"***"`, depth and size bounded, cycles cut.
 */
export function sanitizeRawError(raw: unknown, secrets: readonly string[]): JsonValue {
  return sanitize(
    raw,
    [...secrets].sort((a, b) => b.length - a.length),
    0,
    new WeakSet(),
  );
}

function sanitize(
  value: unknown,
  secrets: readonly string[],
  depth: number,
  seen: WeakSet<object>,
): JsonValue {
  if (typeof value === 'string') return scrubString(value, secrets);
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return value === undefined ? null : typeof value;
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  if (Array.isArray(value))
    return value.slice(0, MAX_ITEMS).map((v) => sanitize(v, secrets, depth + 1, seen));
  const out: Record<string, JsonValue> = {};
  for (const [key, v] of errorEntries(value)) {
    if (typeof v === 'function' || v === undefined) continue;
    out[key] = CREDENTIAL_KEY.test(key) ? REDACTED : sanitize(v, secrets, depth + 1, seen);
  }
  return out;
}

/** Own enumerable fields, plus the non-enumerable `name`/`message`/`cause` of Errors; no stack. */
function errorEntries(value: object): [string, unknown][] {
  const entries = Object.entries(value).filter(([key]) => key !== 'stack');
  if (value instanceof Error) {
    const extra: [string, unknown][] = [
      ['name', value.name],
      ['message', value.message],
    ];
    if (value.cause !== undefined) extra.push(['cause', value.cause]);
    return [...extra, ...entries.filter(([key]) => !['name', 'message', 'cause'].includes(key))];
  }
  return entries.slice(0, MAX_ITEMS);
}

/** Replaces known secret values inside `text`. */
export function scrubString(text: string, secrets: readonly string[]): string {
  let out = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  for (const secret of secrets) if (secret.length > 0) out = out.split(secret).join(REDACTED);
  return out;
}

function eachSecret(value: JsonValue, fn: SecretValueMap): JsonValue {
  if (Array.isArray(value)) return (value as readonly JsonValue[]).map(fn);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fn(v)]));
  return fn(value);
}

function collectStrings(value: JsonValue, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) (value as readonly JsonValue[]).forEach((v) => collectStrings(v, into));
  else if (isPlainObject(value)) Object.values(value).forEach((v) => collectStrings(v, into));
}

function schemaProperties(schema: JsonSchema): Readonly<Record<string, JsonSchema>> {
  const properties = schema.properties;
  return isRecord(properties) ? (properties as Record<string, JsonSchema>) : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
