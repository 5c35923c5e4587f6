/**
 * What the tenant commands send: a spec built from flags (`--image`, `--env`, `--port`, …), a
 * manifest read from `-f FILE` (YAML or JSON, `-` for stdin), or a JSON merge patch built from
 * flags and `-p`. A manifest may be the output of `lessor tenants get -o yaml`: the server-owned
 * fields (`status`, `generation`, …) are ignored.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { TenantPatch, TenantSpecInput } from '../api/types.js';
import { splitCommand, UsageError, type PortMapping } from './args.js';
import { parseSecretEnvFile } from './secret-env-file.js';

/** Flags that describe a spec (create) or a change of it (patch). */
export interface SpecFlags {
  /** `--plan NAME[@REVISION]`: the other spec flags are then overrides of the plan's config. */
  readonly plan?: PlanRef;
  readonly provider?: string;
  readonly image?: string;
  readonly env?: Record<string, string>;
  readonly secretEnv?: Record<string, string>;
  /** Read by `withSecretEnvFile`; combines with `-f FILE` too (secrets kept out of the manifest). */
  readonly secretEnvFile?: string;
  readonly port?: PortMapping[];
  readonly label?: Record<string, string>;
  readonly annotation?: Record<string, string>;
  readonly command?: string;
  readonly arg?: string[];
  readonly configJson?: string;
  readonly paused?: boolean;
}

export interface PlanRef {
  readonly name: string;
  readonly revision?: number;
}

/** `pro` or `pro@3` (revision 3; without one the server pins the plan's latest). */
export function parsePlanRef(value: string): PlanRef {
  const match = /^([^@\s]+)(?:@(\d+))?$/.exec(value);
  const revision = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match?.[1] || (revision !== undefined && (revision < 1 || !Number.isSafeInteger(revision)))) {
    throw new UsageError(`'${value}' is not a plan: give NAME or NAME@REVISION (e.g. pro@3)`);
  }
  return revision === undefined ? { name: match[1] } : { name: match[1], revision };
}

/** A manifest's spec made from `plan` when `--plan` was given with `-f`. */
export function withPlan(spec: TenantSpecInput, plan: PlanRef | undefined): TenantSpecInput {
  return plan === undefined ? spec : { ...spec, plan: { ...plan } };
}

export interface Manifest {
  readonly name: string | undefined;
  readonly spec: TenantSpecInput;
}

type JsonMap = Record<string, unknown>;

const SERVER_FIELDS = new Set(['id', 'status', 'generation', 'version', 'createdAt', 'updatedAt']);
const SPEC_KEYS = new Set(['provider', 'config', 'labels', 'annotations', 'retryPolicy', 'paused']);

export function readInputFile(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${path === '-' ? 'standard input' : path}: ${(error as Error).message}`,
    );
  }
}

/** Parses YAML (a superset of JSON) into a mapping. */
export function parseDocument(text: string, source: string): JsonMap {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${source} is neither JSON nor YAML: ${(error as Error).message}`);
  }
  if (!isMap(data)) throw new UsageError(`${source} must hold a mapping such as {name, spec}`);
  return data;
}

/** `{name, spec}`, `{spec}` or a bare spec (`{provider, config, …}`). */
export function parseManifest(text: string, source: string): Manifest {
  const doc = parseDocument(text, source);
  if (!('spec' in doc) && Object.keys(doc).some((key) => SPEC_KEYS.has(key))) {
    return { name: undefined, spec: doc };
  }
  const unknown = Object.keys(doc).filter(
    (key) => key !== 'name' && key !== 'spec' && !SERVER_FIELDS.has(key),
  );
  if (unknown.length > 0)
    throw new UsageError(`${source}: unknown field(s) ${unknown.join(', ')} (expected name, spec)`);
  if (!isMap(doc.spec)) throw new UsageError(`${source}: spec must be a mapping`);
  if (doc.name !== undefined && typeof doc.name !== 'string')
    throw new UsageError(`${source}: name must be a string`);
  return { name: doc.name, spec: doc.spec };
}

/** The name to create: the NAME argument and the manifest's name must agree when both are given. */
export function resolveName(argument: string | undefined, manifest: Manifest | undefined): string {
  const fromFile = manifest?.name;
  if (argument !== undefined && fromFile !== undefined && argument !== fromFile) {
    throw new UsageError(`NAME '${argument}' differs from name '${fromFile}' in the file`);
  }
  const name = argument ?? fromFile;
  if (name === undefined) throw new UsageError('a tenant NAME is required (argument or name: in the file)');
  return name;
}

const SPEC_FLAG_KEYS = [
  'provider',
  'image',
  'env',
  'secretEnv',
  'port',
  'label',
  'annotation',
  'command',
  'arg',
  'configJson',
  'paused',
] as const satisfies readonly (keyof SpecFlags)[];

export function hasSpecFlags(flags: SpecFlags): boolean {
  return SPEC_FLAG_KEYS.some((key) => flags[key] !== undefined);
}

/**
 * `flags` with the entries of `--secret-env-file` added under `secretEnv` (a `--secret-env` flag
 * wins over the file). `otherInput` is the command's `-f` argument: both cannot read stdin.
 */
export function withSecretEnvFile<F extends SpecFlags>(flags: F, otherInput: string | undefined): F {
  const path = flags.secretEnvFile;
  if (path === undefined) return flags;
  if (path === '-' && otherInput === '-') {
    throw new UsageError('-f - and --secret-env-file - cannot both read standard input');
  }
  const secrets = parseSecretEnvFile(readInputFile(path), path === '-' ? 'standard input' : path);
  return { ...flags, secretEnv: { ...secrets, ...flags.secretEnv } };
}

/** A manifest's spec with `secretEnv` entries set over those it holds (e.g. `***` from `get -o yaml`). */
export function withSecretEnv(
  spec: TenantSpecInput,
  secretEnv: Readonly<Record<string, string>> | undefined,
): TenantSpecInput {
  if (secretEnv === undefined) return spec;
  const config = asMap(spec.config);
  return { ...spec, config: { ...config, secretEnv: { ...asMap(config.secretEnv), ...secretEnv } } };
}

/** The spec of `tenants create NAME --image … --env …`. */
export function specFromFlags(flags: SpecFlags): TenantSpecInput {
  return {
    ...(flags.provider !== undefined && { provider: flags.provider }),
    ...(flags.plan !== undefined && { plan: { ...flags.plan } }),
    config: configFromFlags(flags),
    ...(flags.label && { labels: flags.label }),
    ...(flags.annotation && { annotations: flags.annotation }),
    ...(flags.paused !== undefined && { paused: flags.paused }),
  };
}

/**
 * `spec.config` from flags. Ports become `ports: [{containerPort, hostPort?}]`, except for the
 * process provider, whose config has a single `port`.
 */
export function configFromFlags(flags: SpecFlags): JsonMap {
  const config: JsonMap =
    flags.configJson === undefined ? {} : parseJsonObject(flags.configJson, '--config-json');
  if (flags.image !== undefined) config.image = flags.image;
  const command = commandOf(flags);
  if (command !== undefined) config.command = command;
  if (flags.env) config.env = { ...asMap(config.env), ...flags.env };
  if (flags.secretEnv) config.secretEnv = { ...asMap(config.secretEnv), ...flags.secretEnv };
  if (flags.port) Object.assign(config, portsConfig(flags.port, flags.provider));
  return config;
}

function commandOf(flags: SpecFlags): string[] | undefined {
  if (flags.command === undefined && flags.arg === undefined) return undefined;
  return [...(flags.command === undefined ? [] : splitCommand(flags.command)), ...(flags.arg ?? [])];
}

function portsConfig(ports: readonly PortMapping[], provider: string | undefined): JsonMap {
  if (provider !== 'process') return { ports: ports.map((p) => ({ ...p })) };
  const [first, ...rest] = ports;
  if (!first || rest.length > 0) throw new UsageError('the process provider takes a single --port');
  return { port: first.containerPort };
}

/**
 * A JSON merge patch of the tenant: `-p` (a patch of the resource, e.g. `{"spec":{"paused":true}}`)
 * with the flag changes merged on top. `currentProvider` decides how `--port` is written.
 */
export function patchFromFlags(
  flags: SpecFlags,
  patchText: string | undefined,
  currentProvider?: string,
): TenantPatch {
  const base = patchText === undefined ? {} : parseJsonObject(patchText, '--patch');
  const fromFlags: JsonMap = {};
  const config = configFromFlags({ ...flags, provider: flags.provider ?? currentProvider });
  if (Object.keys(config).length > 0) fromFlags.config = config;
  if (flags.provider !== undefined) fromFlags.provider = flags.provider;
  if (flags.plan !== undefined) fromFlags.plan = { revision: null, ...flags.plan };
  if (flags.label) fromFlags.labels = flags.label;
  if (flags.annotation) fromFlags.annotations = flags.annotation;
  if (flags.paused !== undefined) fromFlags.paused = flags.paused;
  const patch = Object.keys(fromFlags).length === 0 ? base : deepMerge(base, { spec: fromFlags });
  if (Object.keys(patch).length === 0)
    throw new UsageError('nothing to patch: give -p JSON or flags such as --env K=V');
  return patch;
}

export function parseJsonObject(text: string, what: string): JsonMap {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isMap(value)) throw new UsageError(`${what} must be a JSON object`);
  return value;
}

function deepMerge(target: JsonMap, source: JsonMap): JsonMap {
  const result: JsonMap = { ...target };
  for (const [key, value] of Object.entries(source)) {
    const current = result[key];
    result[key] = isMap(current) && isMap(value) ? deepMerge(current, value) : value;
  }
  return result;
}

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asMap(value: unknown): JsonMap {
  return isMap(value) ? value : {};
}
