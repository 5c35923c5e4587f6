/**
 * Manifests of `lessor apply -f` and `lessor plans apply -f`: one YAML stream (or a JSON document)
 * holding any number of documents separated by `---`, each `kind: Plan` or `kind: Tenant`:
 *
 *   kind: Plan                         kind: Tenant
 *   name: pro                          name: acme
 *   description: Pro tier              spec:
 *   spec: {provider, config, …}          plan: {name: pro}
 *   allowedOverrides: [/env]             config: {env: {MODE: prod}}
 *
 * The output of `plans get -o yaml` and `tenants get -o yaml` (with a `kind:` line) is accepted:
 * the server-owned fields are ignored. The whole file is checked before anything is sent: a bad
 * document is a usage error naming it, and nothing is applied.
 */
import { parseAllDocuments } from 'yaml';
import type { ReplacePlanRequest, TenantSpecInput } from '../api/types.js';
import { UsageError } from './args.js';

export type ManifestKind = 'Plan' | 'Tenant';

export interface PlanManifest {
  readonly kind: 'Plan';
  readonly name: string;
  readonly body: ReplacePlanRequest;
  /** `file (document N)`, for messages. */
  readonly source: string;
}

export interface TenantManifest {
  readonly kind: 'Tenant';
  readonly name: string;
  readonly spec: TenantSpecInput;
  readonly source: string;
}

export type ResourceManifest = PlanManifest | TenantManifest;

type JsonMap = Record<string, unknown>;

const KINDS: readonly ManifestKind[] = ['Plan', 'Tenant'];
const FIELDS: Readonly<Record<ManifestKind, ReadonlySet<string>>> = {
  Plan: new Set(['kind', 'name', 'description', 'spec', 'allowedOverrides']),
  Tenant: new Set(['kind', 'name', 'spec']),
};
/** What `get -o yaml` prints besides the writable fields. */
const SERVER_FIELDS: Readonly<Record<ManifestKind, ReadonlySet<string>>> = {
  Plan: new Set(['revision', 'createdAt', 'updatedAt']),
  Tenant: new Set(['id', 'status', 'generation', 'version', 'createdAt', 'updatedAt']),
};

export interface ParseOptions {
  /** The kind of documents without `kind:` (`plans apply`); without it `kind:` is required. */
  readonly defaultKind?: ManifestKind;
  /** Only this kind is accepted (`plans apply` takes plans only). */
  readonly only?: ManifestKind;
}

/** Every document of `text`, in order; empty documents are skipped. */
export function parseManifests(text: string, file: string, options: ParseOptions = {}): ResourceManifest[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const manifests: ResourceManifest[] = [];
  list.forEach((doc, index) => {
    const source = list.length === 1 ? file : `${file} (document ${index + 1})`;
    if (doc.errors.length > 0) {
      throw new UsageError(`${source} is neither JSON nor YAML: ${doc.errors[0]?.message ?? ''}`);
    }
    const data: unknown = doc.toJS();
    if (data === null || data === undefined) return;
    manifests.push(parseResource(data, source, options));
  });
  if (manifests.length === 0) throw new UsageError(`${file} holds no document`);
  rejectDuplicates(manifests);
  return manifests;
}

function parseResource(data: unknown, source: string, options: ParseOptions): ResourceManifest {
  if (!isMap(data)) throw new UsageError(`${source} must be a mapping with kind, name and spec`);
  const kind = data.kind ?? options.defaultKind;
  if (kind === undefined) throw new UsageError(`${source}: kind is required (Plan or Tenant)`);
  if (typeof kind !== 'string' || !KINDS.includes(kind as ManifestKind)) {
    throw new UsageError(`${source}: unknown kind ${JSON.stringify(kind)} (expected Plan or Tenant)`);
  }
  if (options.only !== undefined && kind !== options.only) {
    throw new UsageError(`${source}: kind ${kind} does not belong here (only ${options.only})`);
  }
  const known = kind as ManifestKind;
  const unknown = Object.keys(data).filter((k) => !FIELDS[known].has(k) && !SERVER_FIELDS[known].has(k));
  if (unknown.length > 0) {
    const expected = [...FIELDS[known]].join(', ');
    throw new UsageError(`${source}: unknown field(s) ${unknown.join(', ')} (expected ${expected})`);
  }
  if (typeof data.name !== 'string' || data.name === '') {
    throw new UsageError(`${source}: name is required`);
  }
  if (!isMap(data.spec)) throw new UsageError(`${source}: spec must be a mapping`);
  if (known === 'Tenant') return { kind: known, name: data.name, spec: data.spec, source };
  const body = { spec: data.spec } as JsonMap;
  if (data.description !== undefined) body.description = data.description;
  if (data.allowedOverrides !== undefined) body.allowedOverrides = data.allowedOverrides;
  return { kind: known, name: data.name, body: body as ReplacePlanRequest, source };
}

function rejectDuplicates(manifests: readonly ResourceManifest[]): void {
  const seen = new Map<string, string>();
  for (const m of manifests) {
    const key = `${m.kind}/${m.name}`;
    const first = seen.get(key);
    if (first !== undefined) throw new UsageError(`${m.source}: ${key} is also in ${first}`);
    seen.set(key, m.source);
  }
}

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
