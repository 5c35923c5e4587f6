/**
 * Canonical JSON (sorted keys, no whitespace): what config hashes (config-hasher.ts) and "did the
 * spec really change?" comparisons rely on. Pure; `node:crypto` only hashes.
 *
 * The text is written in one pass (no sorted copy of the value first), and `deepEqualJson` walks
 * both values instead of writing either: both run on every create, spec change and reconcile. The
 * form is exactly `JSON.stringify` of a copy with every object's keys sorted, as built by
 * `Object.fromEntries`: own enumerable string keys, `undefined` members dropped, array-index keys
 * ("0", "12") first in numeric order (an object keeps them so), then the others by UTF-16 code unit;
 * a `toJSON` is never called (a Date is `{}`); NaN and ±Infinity are `null`.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

/** An object's keys in canonical order: array indices (numerically), then the rest sorted. */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  // Ordinary objects list array-index keys first, ascending; only the rest need sorting.
  let indices = 0;
  while (indices < keys.length && isArrayIndex(keys[indices]!)) indices++;
  if (indices === 0) return keys.sort();
  if (indices === keys.length) return keys;
  return [...keys.slice(0, indices), ...keys.slice(indices).sort()];
}

function isArrayIndex(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first < 48 || first > 57) return false;
  if (key === '0') return true;
  if (first === 48 || !/^\d+$/.test(key)) return false;
  return Number(key) < 4294967295;
}

/** Whether `JSON.stringify` leaves an object member with this value out. */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    // In an array, what JSON.stringify would leave out of an object is `null`.
    out.push(omitted(value) ? 'null' : JSON.stringify(value));
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out);
    }
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  out.push('{');
  let first = true;
  for (const key of sortedKeys(record)) {
    const member = record[key];
    if (omitted(member)) continue;
    out.push(first ? JSON.stringify(key) : `,${JSON.stringify(key)}`, ':');
    first = false;
    write(member, out);
  }
  out.push('}');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `canonicalJson(a) === canonicalJson(b)`, without writing either. */
export function deepEqualJson(a: unknown, b: unknown): boolean {
  if (omitted(a) || omitted(b)) return omitted(a) && omitted(b);
  return equal(a, b);
}

/** A scalar as its JSON text would read: NaN and ±Infinity are `null`; BigInt throws, as it does there. */
function scalar(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return JSON.stringify(value);
  return omitted(value) ? null : value;
}

function equal(a: unknown, b: unknown): boolean {
  const aObject = a !== null && typeof a === 'object';
  const bObject = b !== null && typeof b === 'object';
  if (!aObject || !bObject) return !aObject && !bObject && scalar(a) === scalar(b);
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return false;
  if (aArray) {
    const bArray = b as unknown[];
    if (a.length !== bArray.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], bArray[i])) return false;
    return true;
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  let members = 0;
  for (const key of Object.keys(aRecord)) {
    const member = aRecord[key];
    if (omitted(member)) continue;
    members++;
    if (!Object.prototype.propertyIsEnumerable.call(bRecord, key)) return false;
    const other = bRecord[key];
    if (omitted(other) || !equal(member, other)) return false;
  }
  for (const key of Object.keys(bRecord)) if (!omitted(bRecord[key])) members--;
  return members === 0;
}
