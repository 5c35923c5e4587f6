/**
 * `JSON.stringify(wireProjection(schema)(JSON.parse(text)))` for a text that is already the
 * projection's own text, found by one regular expression compiled from the schema instead of by
 * parsing the text into objects and writing them out again — what a cache-missed
 * `GET /v1/tenants/{idOrName}` does with the row's stored spec and status
 * (tenant-document-text.ts; docs/decisions.md, "A cache-missed GET written from the row's texts").
 *
 * The expression accepts exactly the texts the projection leaves unchanged, written as
 * `JSON.stringify` writes them: every object the schema projects has only the schema's fields, in
 * its order (an optional one may be absent, a defaulted one too — its default is then inserted
 * where the projection writes it); values passed as they are (`unknown`, records, leaves) are JSON
 * without whitespace, with strings holding only the escapes `JSON.stringify` uses (a `\u` escape,
 * `\/`, a raw control character or a lone surrogate is refused), numbers in a subset whose text
 * `String(number)` writes back unchanged, no index-like or `__proto__` key, and at most
 * `COPY_DEPTH` levels of nesting. Anything else does not match, and the caller renders the
 * document the ordinary way.
 *
 * One property is not checked but taken from the writer: no object passed as it is repeats a key
 * (`JSON.parse` would keep one of them). Every writer of the texts this serves is `JSON.stringify`
 * (the tenants table's `spec` and `status` columns), which never repeats one.
 */
import type { z } from 'zod';
import { AS_IS, defOf } from './wire-projection.js';

/**
 * Of the kinds passed as they are (`AS_IS`), those whose value is any JSON; the others are matched
 * as scalars only.
 */
const ANY_KINDS = new Set(['unknown', 'any']);

/** A string as `JSON.stringify` writes it (of the escapes, only \" \\ \b \f \n \r \t). */
const CHARS = String.raw`(?:[^"\\\u0000-\u001f\ud800-\udfff]|\\["\\bfnrt]|[\ud800-\udbff][\udc00-\udfff])*`;
const STRING = `"${CHARS}"`;
/** A key `JSON.parse` → `JSON.stringify` keeps in place: not index-like, not `__proto__`. */
const KEY = `"(?![0-9]|__proto__")${CHARS}"`;
/**
 * Numbers whose text `String(Number(text))` is: integers of up to 15 digits (no `-0`), and
 * decimals of at most 12 significant digits, no trailing zero, at least 1e-6 in magnitude. Others
 * (exponents, longer or smaller ones) are refused, not checked.
 */
const NUMBER = String.raw`(?:-?(?:[1-9][0-9]{0,14}|(?:0|[1-9][0-9]{0,5})\.[0-9]{0,5}[1-9]|0\.0{0,5}[1-9](?:[0-9]{0,5}[1-9])?)|0)`;

/**
 * Levels of objects and arrays a value passed as it is may nest (deeper: refused). The pattern
 * doubles with each level: at 4 the tenant status's expression is about 24 kB (30 ms to compile here).
 */
export const COPY_DEPTH = 4;

/**
 * A scalar, for a leaf the schema types as one: a value of another kind there is refused (the
 * ordinary rendering passes it as it is).
 */
const SCALAR = `(?:${STRING}|${NUMBER}|true|false|null)`;

/** Any JSON value of at most `depth` levels, as described above. */
function anyValue(depth: number): string {
  if (depth === 0) return `(?:${SCALAR}|\\{\\}|\\[\\])`;
  const inner = anyValue(depth - 1);
  // After each member: a comma that another member follows, or the end (no `,}`, no `{"a":1"b":2}`).
  const object = `\\{(?:${KEY}:${inner}(?:,(?=")|(?=\\})))*\\}`;
  const array = `\\[(?:${inner}(?:,(?!\\])|(?=\\])))*\\]`;
  return `(?:${SCALAR}|${object}|${array})`;
}

const ANY = anyValue(COPY_DEPTH);

/** Where a defaulted field absent from the text gets its default: a capture group, and the text. */
export interface Insertion {
  /** An empty group where the field stands or would stand. */
  readonly place: number;
  /** The field's own group: unmatched when the field is absent. */
  readonly field: number;
  readonly text: string;
}

/** How one field of a projected object is matched and written, in place of the schema's way. */
export type FieldRule = { readonly pattern: string; readonly absent: string | undefined };

/** A projection's text form: the expression's source (groups numbered from 1) and the insertions. */
export class TextPattern {
  readonly insertions: Insertion[] = [];
  private groups = 0;

  constructor(private readonly overrides: Readonly<Record<string, FieldRule>> = {}) {}

  /** The pattern of a value of `schema`. Throws for a schema kind that cannot be matched exactly. */
  value(schema: z.ZodType, path: string, topLevel: boolean): string {
    const def = defOf(schema);
    if (AS_IS.has(def.type)) return ANY_KINDS.has(def.type) ? ANY : SCALAR;
    switch (def.type) {
      case 'object':
        return this.object(def.shape!, path, topLevel);
      case 'readonly':
        return this.value(def.innerType!, path, topLevel);
      case 'nullable':
      case 'optional':
        return `(?:null|${this.value(def.innerType!, path, topLevel)})`;
      case 'default':
        return this.value(def.innerType!, path, topLevel);
      case 'array':
        return `\\[(?:${this.value(def.element!, `${path}[]`, false)}(?:,(?!\\])|(?=\\])))*\\]`;
      case 'record': {
        const kind = defOf(def.valueType!).type;
        if (ANY_KINDS.has(kind)) return ANY;
        if (AS_IS.has(kind)) return `\\{(?:${KEY}:${SCALAR}(?:,(?=")|(?=\\})))*\\}`;
        break;
      }
    }
    throw new Error(`wire text: cannot match a '${def.type}' schema exactly (at ${path || 'the root'})`);
  }

  /**
   * Fields in the schema's order, the first one required (so that each other one is matched with
   * its leading comma). An optional field may be absent; a defaulted one too, where `topLevel`
   * lets a capture group mark the place for its default (not inside a repetition).
   */
  private object(shape: Readonly<Record<string, z.ZodType>>, path: string, topLevel: boolean): string {
    const parts = Object.entries(shape).map(([key, schema], index) => {
      const at = path ? `${path}.${key}` : key;
      const rule = topLevel ? this.overrides[at] : undefined;
      const kind = defOf(schema).type;
      const absent = rule
        ? rule.absent
        : kind === 'default'
          ? JSON.stringify(defOf(schema).defaultValue)
          : undefined;
      const mayBeAbsent = rule !== undefined || kind === 'optional' || kind === 'default';
      const field = `${index === 0 ? '' : ','}${escapeRegExp(JSON.stringify(key))}:${rule?.pattern ?? this.value(schema, at, topLevel)}`;
      if (!mayBeAbsent) return field;
      if (index === 0) throw new Error(`wire text: the first field of an object must be required (at ${at})`);
      if (absent === undefined) return `(?:${field})?`;
      if (!topLevel) throw new Error(`wire text: a defaulted field inside a repetition (at ${at})`);
      const place = ++this.groups;
      this.insertions.push({ place, field: ++this.groups, text: `,${JSON.stringify(key)}:${absent}` });
      return `()(${field})?`;
    });
    return `\\{${parts.join('')}\\}`;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A compiled text projection: the projected text of a text already in its form, or undefined. */
export interface TextProjection {
  (text: string): string | undefined;
}

/**
 * Compiles `schema`'s text projection; `overrides` replace how the named top-level fields (by
 * path, e.g. `suspended`) are matched and, when absent, written.
 */
export function textProjection(
  schema: z.ZodType,
  overrides: Readonly<Record<string, FieldRule>> = {},
): TextProjection {
  const pattern = new TextPattern(overrides);
  const source = pattern.value(schema, '', true);
  const { insertions } = pattern;
  const expression = new RegExp(`^${source}$`, insertions.length > 0 ? 'd' : '');
  return (text) => {
    let match: RegExpExecArray | null;
    try {
      match = expression.exec(text);
    } catch {
      // The engine's backtracking stack overflowed on a huge text: render it the ordinary way.
      return undefined;
    }
    if (match === null) return undefined;
    if (insertions.length === 0) return text;
    let out = '';
    let from = 0;
    // In the text's order: groups are numbered as they open, and insertions as they were made.
    for (const { place, field, text: inserted } of insertions) {
      // Present, or its whole object absent (a null in a nullable parent): nothing to insert.
      const span = match.indices![place];
      if (match[field] !== undefined || span === undefined) continue;
      const at = span[0];
      out += text.slice(from, at) + inserted;
      from = at;
    }
    return out + text.slice(from);
  };
}
