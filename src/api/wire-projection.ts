/**
 * The projection a response schema defines, compiled from the schema itself: objects keep exactly
 * the fields their schema names, in its order (fields stored beside them never reach the wire),
 * nested through nullable, optional, readonly, arrays and records; leaves are passed as they are.
 * It is what a zod parse of a server-built document yields, minus the validation, so hot responses
 * (the tenant document) get the schema's output without parsing every value on every response.
 * Schema kinds it cannot project faithfully (transforms, defaults, unions …) are refused when the
 * projection is compiled, so a schema change can never make it silently disagree with zod.
 */
import type { z } from 'zod';

/** Maps a value to its wire form; `null` stands for "as it is" (no copy needed). */
type Projector = ((value: unknown) => unknown) | null;

interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Leaf kinds whose parse returns the input itself. */
const AS_IS = new Set(['string', 'number', 'int', 'boolean', 'enum', 'literal', 'unknown', 'any', 'null']);

function compile(schema: z.ZodType, path: string): Projector {
  const def = defOf(schema);
  if (AS_IS.has(def.type)) return null;
  switch (def.type) {
    case 'object':
      return objectProjector(def.shape!, path);
    case 'nullable':
    case 'optional':
    case 'readonly': {
      const inner = compile(def.innerType!, path);
      return inner && ((value) => (value === null || value === undefined ? value : inner(value)));
    }
    case 'array': {
      const element = compile(def.element!, `${path}[]`);
      return element && ((value) => (value as readonly unknown[]).map(element));
    }
    case 'record': {
      const item = compile(def.valueType!, `${path}{}`);
      return (
        item &&
        ((value) =>
          Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, item(v)])))
      );
    }
    default:
      throw new Error(`wire projection: cannot project a '${def.type}' schema (at ${path || 'the root'})`);
  }
}

function objectProjector(shape: Readonly<Record<string, z.ZodType>>, path: string): Projector {
  const fields = Object.entries(shape).map(
    ([key, field]) => [key, compile(field, path ? `${path}.${key}` : key)] as const,
  );
  return (value) => {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [key, project] of fields) {
      const item = source[key];
      if (item !== undefined) out[key] = project ? project(item) : item;
    }
    return out;
  };
}

/** The projection `schema` defines; throws at once for schema kinds it cannot project. */
export function wireProjection<T>(schema: z.ZodType): (value: T) => T {
  const project = compile(schema, '');
  return (value) => (project ? project(value) : value) as T;
}
