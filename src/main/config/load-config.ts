/**
 * Loads the server configuration (README, "Configuration reference"). Precedence: built-in defaults < YAML
 * file < environment < flags. The file is `--config FILE` (which must exist) or `lessor.yaml` in the working
 * directory when present. The result is validated once, with every problem reported at once, and deep-frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

import { parseDocument } from 'yaml';
import type { z } from 'zod';

import { ConfigError, type ConfigProblem } from './config-error.js';
import { configSchema, type LessorConfig } from './config-schema.js';
import {
  envAssignments,
  fileAssignments,
  flagAssignments,
  isPlainObject,
  type Assignment,
  type ConfigFlags,
  type SourceResult,
} from './config-sources.js';

export { ConfigError, type ConfigProblem } from './config-error.js';
export type { ConfigFlags } from './config-sources.js';
export type { LessorConfig } from './config-schema.js';

export const DEFAULT_CONFIG_FILE = 'lessor.yaml';

export interface LoadConfigOptions {
  readonly flags?: ConfigFlags;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `lessor.yaml` is looked for and relative `--config` paths start; default process.cwd(). */
  readonly cwd?: string;
  /** Same as `flags.config`, and wins over it: this file must exist. */
  readonly configFile?: string;
}

/** @throws ConfigError listing every problem, each with its dotted key and where the value came from. */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<LessorConfig> {
  const flags = options.flags ?? {};
  const file = readConfigFile(options.cwd ?? process.cwd(), options.configFile ?? flags.config);
  // Without its file the rest would be judged against the wrong baseline: stop here.
  if (file.problems.length > 0) throw new ConfigError(file.problems);
  const sources = [file, envAssignments(options.env ?? process.env), flagAssignments(flags)];

  const { raw, origins } = merge(sources.flatMap((source) => source.assignments));
  const result = configSchema.safeParse(raw, { error: describeTypeIssue });
  const problems = [
    ...sources.flatMap((source) => source.problems),
    ...(result.error?.issues.flatMap((issue) => toProblems(issue, origins)) ?? []),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return deepFreeze(result.data);
}

function readConfigFile(cwd: string, explicit: string | undefined): SourceResult {
  const none: SourceResult = { assignments: [], problems: [] };
  const path = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  const label = explicit === undefined ? DEFAULT_CONFIG_FILE : explicit;
  if (!existsSync(path)) {
    if (explicit === undefined) return none;
    const shown = isAbsolute(explicit) ? explicit : `${explicit} (in ${cwd})`;
    return { assignments: [], problems: [{ path: '--config', message: `no such file: ${shown}` }] };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return { assignments: [], problems: [{ path: label, message: `cannot read: ${String(error)}` }] };
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    return {
      assignments: [],
      problems: document.errors.map((error) => ({ path: label, message: firstLine(error.message) })),
    };
  }
  const content: unknown = document.toJS({ maxAliasCount: 100 });
  if (content === null || content === undefined) return none;
  if (!isPlainObject(content)) {
    return {
      assignments: [],
      problems: [{ path: label, message: 'expected a YAML mapping at the top level' }],
    };
  }
  return fileAssignments(content, label);
}

/** Applies assignments in order (later wins) and remembers where each key's value came from. */
function merge(assignments: readonly Assignment[]): {
  raw: Record<string, unknown>;
  origins: Map<string, string>;
} {
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, string>();
  for (const { path, value, source } of assignments) {
    let node = raw;
    for (const key of path.slice(0, -1)) {
      const next = node[key];
      node = isPlainObject(next) ? next : (node[key] = {});
    }
    node[path[path.length - 1] ?? ''] = value;
    const dotted = path.join('.');
    for (const key of origins.keys()) if (key.startsWith(`${dotted}.`)) origins.delete(key);
    origins.set(dotted, source);
  }
  return { raw, origins };
}

type Issue = z.core.$ZodIssue;

function toProblems(issue: Issue, origins: ReadonlyMap<string, string>): ConfigProblem[] {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => problem([...path, key], 'unknown key', origins));
  }
  if (issue.code === 'invalid_key') {
    return [problem(path, issue.issues[0]?.message ?? issue.message, origins)];
  }
  return [problem(path, issue.message, origins)];
}

function problem(
  path: readonly string[],
  message: string,
  origins: ReadonlyMap<string, string>,
): ConfigProblem {
  const shown = path.length === 0 ? '(top level)' : path.join('.');
  for (let length = path.length; length > 0; length--) {
    const source = origins.get(path.slice(0, length).join('.'));
    if (source !== undefined) return { path: shown, message, source };
  }
  // A key set only through its children (an unknown section, say): name whatever set them.
  const below = [...origins].filter(([key]) => path.length > 0 && key.startsWith(`${path.join('.')}.`));
  const sources = [...new Set(below.map(([, source]) => source))];
  return sources.length === 0
    ? { path: shown, message }
    : { path: shown, message, source: sources.join(', ') };
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  boolean: 'true or false',
};

/** Readable wording for zod's type errors where the schema did not give its own message. */
function describeTypeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  const expected = TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`;
  return issue.input === undefined ? `required (expected ${expected})` : `expected ${expected}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** yaml's pretty errors add a source excerpt after the first line; the position is in the first. */
function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}
