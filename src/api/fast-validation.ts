/**
 * The validator compiler: zod (fastify-type-provider-zod) for every schema, with a shortcut for the
 * two schemas every `GET /v1/tenants/{idOrName}` validates — its path parameter and its query. A
 * zod parse of even these small objects is a few per cent of that GET's CPU. The shortcut accepts
 * only input zod accepts too, and answers exactly zod's output for it (a new plain object with the
 * same fields); anything else — an extra or inherited field, a value zod would refuse — goes to zod,
 * so every error (and its problem+json) is zod's own.
 */
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { ID_OR_NAME_PATTERN, IdOrNameParams, TenantViewQuery } from './schemas-query.js';

type Validator = ReturnType<FastifySchemaCompiler<FastifySchema>>;

/** What the shortcut accepts: the parsed value, or undefined to ask zod. */
type Shortcut = (data: unknown) => object | undefined;

/** `{ idOrName }` alone, the name matching its pattern. */
const idOrNameParams: Shortcut = (data) => {
  if (!isOwnFieldsOnly(data, 'idOrName')) return undefined;
  const { idOrName } = data as { idOrName: unknown };
  return typeof idOrName === 'string' && ID_OR_NAME_PATTERN.test(idOrName) ? { idOrName } : undefined;
};

/** No query at all, or `view` alone with one of its values. */
const tenantViewQuery: Shortcut = (data) => {
  if (isOwnFieldsOnly(data)) return {};
  if (!isOwnFieldsOnly(data, 'view')) return undefined;
  const { view } = data as { view: unknown };
  return view === 'spec' || view === 'effective' ? { view } : undefined;
};

const SHORTCUTS = new Map<unknown, Shortcut>([
  [IdOrNameParams, idOrNameParams],
  [TenantViewQuery, tenantViewQuery],
]);

export const fastValidatorCompiler: FastifySchemaCompiler<FastifySchema> = (route) => {
  const zod: Validator = validatorCompiler(route as Parameters<typeof validatorCompiler>[0]);
  const shortcut = SHORTCUTS.get(route.schema);
  if (!shortcut) return zod;
  return (data) => {
    const value = shortcut(data);
    return value === undefined ? zod(data) : { value };
  };
};

/**
 * A non-array object whose enumerable fields, inherited ones included, are exactly `name` (an own
 * field), or none when no name is given.
 */
function isOwnFieldsOnly(data: unknown, name?: string): boolean {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  let count = 0;
  for (const key in data) {
    if (key !== name) return false;
    count += 1;
  }
  return name === undefined ? count === 0 : count === 1 && Object.hasOwn(data, name);
}
