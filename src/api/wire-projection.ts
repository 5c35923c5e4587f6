/**
 * The projection a response schema defines, compiled from the schema itself: objects keep exactly
 * the fields their schema names, in its order (fields stored beside them never reach the wire),
 * nested through nullable, optional, readonly, arrays and records; leaves are passed as they are.
 * Serialised, it is what a zod parse of a server-built document yields, minus the validation, so
 * hot responses (the tenant document) get the schema's output without parsing every value.
 * Schema kinds it cannot project faithfully (transforms, unions …) are refused when the
 * projection is compiled, so a schema change can never make it silently disagree with zod.
 */
import type { z } from 'zod';

/** The parts of a zod schema's definition the projections read (this file and wire-text.ts). */
export interface Def {
  readonly type: string;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly defaultValue?: unknown;
}

export const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Leaf kinds whose parse returns the input itself. */
export const AS_IS = new Set([
  'string',
  'number',
  'int',
  'boolean',
  'enum',
  'literal',
  'unknown',
  'any',
  'null',
]);

/**
 * Compiles to straight-line JavaScript (one function per object schema, object literals in the
 * schema's order) so a projection costs what a hand-written copy does. Only property names from
 * the schema reach the code, each as a JSON string literal.
 */
class Compiler {
  readonly functions: string[] = [];

  /** The code for `expr`'s wire form, or null when it is `expr` itself. */
  value(schema: z.ZodType, expr: string, path: string): string | null {
    const def = defOf(schema);
    if (AS_IS.has(def.type)) return null;
    switch (def.type) {
      case 'object':
        return `${this.object(def.shape!, path)}(${expr})`;
      case 'nullable':
      case 'optional':
      case 'readonly': {
        const inner = this.value(def.innerType!, expr, path);
        if (inner === null || def.type === 'readonly') return inner;
        return `(${expr} == null ? ${expr} : ${inner})`;
      }
      case 'default': {
        // zod's parse fills an absent value with the default: so does the projection (JSON values only).
        const inner = this.value(def.innerType!, expr, path);
        const fallback = JSON.stringify(def.defaultValue);
        return `(${expr} === undefined ? ${fallback} : ${inner ?? expr})`;
      }
      case 'array': {
        const element = this.value(def.element!, 'e', `${path}[]`);
        return element && `${expr}.map((e) => ${element})`;
      }
      case 'record': {
        const item = this.value(def.valueType!, 'e', `${path}{}`);
        return item && `mapValues(${expr}, (e) => ${item})`;
      }
      default:
        throw new Error(`wire projection: cannot project a '${def.type}' schema (at ${path || 'the root'})`);
    }
  }

  /** Emits the function projecting an object of `shape`; returns its name. */
  private object(shape: Readonly<Record<string, z.ZodType>>, path: string): string {
    const name = `p${this.functions.length}`;
    this.functions.push('');
    const fields = Object.entries(shape).map(([key, field]) => {
      const literal = JSON.stringify(key);
      const read = `o[${literal}]`;
      return `${literal}: ${this.value(field, read, path ? `${path}.${key}` : key) ?? read}`;
    });
    this.functions[Number(name.slice(1))] = `function ${name}(o) { return { ${fields.join(', ')} }; }`;
    return name;
  }
}

function mapValues(record: Record<string, unknown>, project: (value: unknown) => unknown): unknown {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, project(value)]));
}

/**
 * The projection `schema` defines; throws at once for schema kinds it cannot project. Fields the
 * input lacks come out `undefined`, which JSON leaves out just as zod's parse leaves them out.
 */
export function wireProjection<T>(schema: z.ZodType): (value: T) => T {
  const compiler = new Compiler();
  const body = compiler.value(schema, 'v', '');
  if (body === null) return (value) => value;
  const source = `${compiler.functions.join('\n')}\nreturn (v) => ${body};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code built from schema names only
  const make = new Function('mapValues', source) as (helper: typeof mapValues) => (value: T) => T;
  return make(mapValues);
}
