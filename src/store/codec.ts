/**
 * Small conversions shared by the repositories: JSON columns, 0/1 booleans, opaque page cursors.
 * Cursors are base64url JSON; they are opaque to clients and validated on the way back in.
 */
import { ValidationError } from '../domain/errors.js';

/** Serialises a JSON column; `undefined` is stored as NULL. */
export function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** Parses a JSON column; NULL reads back as `fallback`. */
export function fromJson<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

export function toFlag(value: boolean): number {
  return value ? 1 : 0;
}

export function fromFlag(value: number): boolean {
  return Number(value) === 1;
}

export function nowIso(): string {
  return new Date().toISOString();
}

export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor` with `arity` string parts; anything else is a client
 * error (400), not a server one.
 */
export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === arity && parsed.every((p) => typeof p === 'string')) {
      return parsed;
    }
  } catch {
    // fall through
  }
  throw new ValidationError('invalid cursor', [
    { path: 'cursor', message: 'not a cursor this server issued' },
  ]);
}

/** The first `limit` rows and the cursor of the last one, when a `limit + 1`-th row exists. */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  map: (row: R) => T,
  position: (row: R) => string[],
) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null;
  return { items: items.map(map), nextCursor };
}
