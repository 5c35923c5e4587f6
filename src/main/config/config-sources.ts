/**
 * The three places configuration comes from — a YAML document, the environment and command-line
 * flags — each turned into a list of assignments (path, value, where it came from). Merging and
 * validation happen in load-config.ts; the sources only say what was set and where.
 */
import type { ConfigProblem } from './config-error.js';
import { TOP_LEVEL_KEYS } from './config-schema.js';

export interface Assignment {
  readonly path: readonly string[];
  readonly value: unknown;
  /** How a user recognises this value: `lessor.yaml`, `LESSOR_SERVER__PORT="abc"`, `--port=0`. */
  readonly source: string;
}

export interface SourceResult {
  readonly assignments: readonly Assignment[];
  readonly problems: readonly ConfigProblem[];
}

/** Command-line flags the server understands directly; anything else goes through `--set path=value`. */
export interface ConfigFlags {
  readonly config?: string;
  readonly port?: number | string;
  readonly host?: string;
  readonly databaseUrl?: string;
  readonly logLevel?: string;
  /** `dotted.path=value` overrides, e.g. `engine.type=restate`; values as in the environment. */
  readonly set?: readonly string[];
}

const FLAG_PATHS = {
  port: { flag: '--port', path: ['server', 'port'] },
  host: { flag: '--host', path: ['server', 'host'] },
  databaseUrl: { flag: '--database-url', path: ['database', 'url'] },
  logLevel: { flag: '--log-level', path: ['log', 'level'] },
} as const;

const ENV_PREFIX = 'LESSOR_';
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every leaf of a parsed file (arrays and empty mappings count as leaves: `process: {}` enables a provider). */
export function fileAssignments(document: Record<string, unknown>, label: string): SourceResult {
  const assignments: Assignment[] = [];
  const problems: ConfigProblem[] = [];
  const walk = (node: Record<string, unknown>, path: readonly string[]): void => {
    for (const [key, value] of Object.entries(node)) {
      const here = [...path, key];
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push({ path: here.join('.'), message: 'not a configuration key', source: label });
      } else if (isPlainObject(value) && Object.keys(value).length > 0) {
        walk(value, here);
      } else {
        assignments.push({ path: here, value, source: label });
      }
    }
  };
  walk(document, []);
  return { assignments, problems };
}

/**
 * `LESSOR_` + the path, `__` between levels and `_` between the words of a camelCase key:
 * `LESSOR_COMPUTE__DEFAULT_PROVIDER` → compute.defaultProvider. Provider names (record keys) are
 * lower-cased and error codes under `onError` upper-cased instead. Variables without `__` that name
 * no top-level key (`LESSOR_URL`, `LESSOR_TOKEN` of the CLI client) are not server configuration.
 */
export function envAssignments(env: Readonly<Record<string, string | undefined>>): SourceResult {
  const assignments: Assignment[] = [];
  const problems: ConfigProblem[] = [];
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__');
    if (segments.some((segment) => segment === '')) {
      problems.push({ path: name, message: 'malformed variable name (empty level between "__")' });
      continue;
    }
    const path = segments.reduce<string[]>((parent, segment) => [...parent, keyFor(parent, segment)], []);
    if (segments.length === 1 && !TOP_LEVEL_KEYS.includes(path[0] ?? '')) continue;
    assignments.push({ path, value: parseTextValue(raw), source: `${name}=${display(path, raw)}` });
  }
  return { assignments, problems };
}

export function flagAssignments(flags: ConfigFlags): SourceResult {
  const assignments: Assignment[] = [];
  const problems: ConfigProblem[] = [];
  for (const [key, { flag, path }] of Object.entries(FLAG_PATHS)) {
    const value = flags[key as keyof typeof FLAG_PATHS];
    if (value === undefined) continue;
    assignments.push({ path, value, source: `${flag}=${display(path, String(value))}` });
  }
  for (const entry of flags.set ?? []) {
    const equals = entry.indexOf('=');
    const path = equals > 0 ? entry.slice(0, equals).split('.') : [];
    if (path.length === 0 || path.some((key) => key === '' || FORBIDDEN_KEYS.has(key))) {
      problems.push({ path: '--set', message: `expected dotted.path=value, got ${JSON.stringify(entry)}` });
      continue;
    }
    const raw = entry.slice(equals + 1);
    assignments.push({
      path,
      value: parseTextValue(raw),
      source: `--set ${path.join('.')}=${display(path, raw)}`,
    });
  }
  return { assignments, problems };
}

function keyFor(parent: readonly string[], segment: string): string {
  if (parent.length === 2 && parent[0] === 'compute' && parent[1] === 'providers')
    return segment.toLowerCase();
  if (parent.length === 3 && parent[0] === 'retryPolicy' && parent[2] === 'onError')
    return segment.toUpperCase();
  const [first = '', ...rest] = segment.toLowerCase().split('_');
  return first + rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
}

/** Text values are strings, except JSON arrays and objects (e.g. a list of tokens); the schema coerces the rest. */
function parseTextValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return raw;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return raw; // e.g. an IPv6 host "[::1]"; the schema says what it expected
  }
}

const SECRET_KEY = /token|password|secret|sha256/i;

/** A value as shown in an error message: quoted, with secrets and URL passwords masked. */
export function display(path: readonly string[], raw: string): string {
  if (path.some((key) => SECRET_KEY.test(key))) return '"***"';
  try {
    const url = new URL(raw);
    if (url.password !== '') {
      url.password = '***';
      return JSON.stringify(url.toString());
    }
  } catch {
    // not a URL: shown as is
  }
  return JSON.stringify(raw);
}
