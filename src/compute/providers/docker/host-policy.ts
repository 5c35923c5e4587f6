/**
 * What a tenant's container may take from the host, decided by the admin's provider options
 * (`allowedBindRoots`, `allowedHostIps`) and never by the tenant (docs/providers/docker.md):
 *
 * - a bind mount (an absolute `source`) only under an allowed root, resolved through symlinks, and
 *   read-only unless that root is writable; none at all by default;
 * - a named volume (any other `source`) is the tenant's own: the engine volume is
 *   `lessor-<tenant-id>-<name>`, so no tenant reaches another's data by guessing its name;
 * - network modes that join the host's or another container's namespaces (`host`, `container:…`,
 *   `ns:…`, and any mode with options) are refused;
 * - a published port binds the admin's `hostIp` (127.0.0.1 by default) unless the tenant asks for an
 *   address the admin allowed.
 *
 * Paths are resolved on the filesystem Lessor sees: the engine is expected on the same host (a
 * unix socket). The resolved path — not the one the tenant wrote — is what the engine is given.
 */
import { realpathSync } from 'node:fs';
import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { FieldProblem } from '../../../domain/errors.js';

export interface VolumeSpec {
  /** An absolute host path (a bind mount) or the name of one of the tenant's own volumes. */
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

/** The parts of a docker config that reach into the host. */
export interface HostFacingConfig {
  readonly volumes?: readonly VolumeSpec[];
  readonly network?: string;
  readonly ports?: readonly { readonly hostIp?: string }[];
}

export interface BindRoot {
  /** Absolute host path; binds must resolve to it or below it. */
  readonly path: string;
  /** Binds under this root may be mounted read-write (default: read-only). */
  readonly writable: boolean;
}

export interface HostPolicy {
  readonly allowedBindRoots: readonly BindRoot[];
  /** The address a published port binds when it names none: a loopback address or an allowed one. */
  readonly hostIp: string;
  /** Host addresses besides `hostIp` a published port may bind. */
  readonly allowedHostIps: readonly string[];
}

export const DEFAULT_HOST_IP = '127.0.0.1';

/** The default: no bind mounts, ports on 127.0.0.1 only. */
export const NO_HOST_ACCESS: HostPolicy = Object.freeze({
  allowedBindRoots: [],
  hostIp: DEFAULT_HOST_IP,
  allowedHostIps: [],
});

export type Mount =
  | { readonly kind: 'bind'; readonly hostPath: string; readonly target: string; readonly readOnly: boolean }
  | { readonly kind: 'volume'; readonly name: string; readonly target: string; readonly readOnly: boolean };

export interface VolumePlan {
  readonly mounts: readonly Mount[];
  readonly problems: readonly FieldProblem[];
}

/** Docker's own rule for volume and network names. */
const ENGINE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Every host-safety problem of `config`; paths relative to `spec.config`. */
export function hostPolicyProblems(config: HostFacingConfig, policy: HostPolicy): FieldProblem[] {
  return [
    ...planVolumes(config.volumes, policy).problems,
    ...networkProblems(config.network),
    ...hostIpProblems(config, policy),
  ];
}

/** Classifies and checks each volume; `mounts` is meaningful only when there are no problems. */
export function planVolumes(volumes: readonly VolumeSpec[] | undefined, policy: HostPolicy): VolumePlan {
  const mounts: Mount[] = [];
  const problems: FieldProblem[] = [];
  listOf(volumes).forEach((volume, i) => {
    if (typeof volume !== 'object' || volume === null) return; // the schema reports it
    const at = `volumes.${i}`;
    const targetProblem = checkTarget(volume.target);
    if (targetProblem !== undefined) problems.push({ path: `${at}.target`, message: targetProblem });
    const planned =
      typeof volume.source === 'string' && volume.source.startsWith('/')
        ? planBind(volume, policy, at)
        : planNamedVolume(volume, at);
    if ('problem' in planned) problems.push(planned.problem);
    else mounts.push(planned);
  });
  return { mounts, problems };
}

/** The engine's `Binds` entries; named volumes are put in the tenant's namespace. */
export function bindsFor(mounts: readonly Mount[], tenantId: string): string[] {
  return mounts.map((mount) => {
    const source = mount.kind === 'bind' ? mount.hostPath : tenantVolumeName(tenantId, mount.name);
    return `${source}:${mount.target}${mount.readOnly ? ':ro' : ''}`;
  });
}

export function tenantVolumeName(tenantId: string, name: string): string {
  return `lessor-${tenantId}-${name}`;
}

function planBind(volume: VolumeSpec, policy: HostPolicy, at: string): Mount | { problem: FieldProblem } {
  const refuse = (message: string, field = 'source') => ({ problem: { path: `${at}.${field}`, message } });
  const source = volume.source;
  if (hasControlChars(source) || source.includes(':') || posix.normalize(source) !== source) {
    return refuse("must be a normalised absolute path (no '.', '..', '//', ':' or control characters)");
  }
  const resolved = resolveHostPath(source);
  if (typeof resolved !== 'string') return refuse(`cannot be resolved on the host (${resolved.code})`);
  const root = rootOf(resolved, policy.allowedBindRoots);
  if (root === undefined) {
    const roots = policy.allowedBindRoots.map((r) => r.path).join(', ');
    return refuse(
      roots === ''
        ? 'bind mounts are refused: the admin allowed none (compute.providers.docker.allowedBindRoots)'
        : `resolves to ${resolved}, outside the allowed bind roots (${roots})`,
    );
  }
  if (!root.writable && volume.readOnly === false) {
    return refuse(`must be true: ${root.path} allows read-only bind mounts only`, 'readOnly');
  }
  return {
    kind: 'bind',
    hostPath: resolved,
    target: volume.target,
    readOnly: volume.readOnly === true || !root.writable,
  };
}

function planNamedVolume(volume: VolumeSpec, at: string): Mount | { problem: FieldProblem } {
  if (typeof volume.source !== 'string' || !ENGINE_NAME.test(volume.source)) {
    return {
      problem: {
        path: `${at}.source`,
        message: 'must be an absolute host path or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)',
      },
    };
  }
  return { kind: 'volume', name: volume.source, target: volume.target, readOnly: volume.readOnly === true };
}

/** `:` and `,` would smuggle mount options (propagation, relabelling, chown) into the bind spec. */
function checkTarget(target: unknown): string | undefined {
  if (typeof target !== 'string' || !target.startsWith('/')) return 'must be an absolute path';
  if (hasControlChars(target) || target.includes(':') || target.includes(',')) {
    return "must not contain ':', ',' or control characters";
  }
  return undefined;
}

/**
 * The real path of `path`: the longest existing prefix through realpath (symlinks followed), the
 * rest appended (it does not exist, so it holds no links). An errno code when it cannot be resolved.
 */
export function resolveHostPath(path: string): string | { readonly code: string } {
  const missing: string[] = [];
  let existing = posix.resolve('/', path);
  for (;;) {
    try {
      return posix.join(realpathSync.native(existing), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EINVAL';
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || existing === '/') return { code };
      missing.unshift(posix.basename(existing));
      existing = posix.dirname(existing);
    }
  }
}

/** The most specific allowed root that `resolved` is at or below, compared by whole components. */
function rootOf(resolved: string, roots: readonly BindRoot[]): BindRoot | undefined {
  let best: { root: BindRoot; length: number } | undefined;
  for (const root of roots) {
    const base = resolveHostPath(root.path);
    if (typeof base !== 'string') continue;
    const under = base === '/' || resolved === base || resolved.startsWith(`${base}/`);
    if (under && (best === undefined || base.length > best.length)) best = { root, length: base.length };
  }
  return best?.root;
}

function networkProblems(network: string | undefined): FieldProblem[] {
  if (network === undefined) return [];
  if (typeof network === 'string' && network.toLowerCase() === 'host') {
    return [{ path: 'network', message: "'host' shares the host's network namespace: refused" }];
  }
  if (typeof network !== 'string' || !ENGINE_NAME.test(network)) {
    return [
      {
        path: 'network',
        message:
          "must be a network name; modes that join other namespaces or carry options ('container:…', 'ns:…', 'mode:options') are refused",
      },
    ];
  }
  return [];
}

function hostIpProblems(config: HostFacingConfig, policy: HostPolicy): FieldProblem[] {
  const allowed = new Set(policy.allowedHostIps.map(canonicalIp));
  const problems: FieldProblem[] = [];
  listOf(config.ports).forEach((port, i) => {
    const ip = port.hostIp ?? policy.hostIp;
    if (ip === policy.hostIp) return;
    const path = `ports.${i}.hostIp`;
    if (typeof ip !== 'string' || isIP(ip) === 0) problems.push({ path, message: 'must be an IP address' });
    else if (!allowed.has(canonicalIp(ip))) {
      problems.push({
        path,
        message: `${ip} is not allowed (compute.providers.docker.allowedHostIps); ports bind ${policy.hostIp} by default`,
      });
    }
  });
  return problems;
}

function hasControlChars(text: string): boolean {
  return [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
}

/** The array, or empty when the (unvalidated) value is anything else. */
function listOf<T>(value: readonly T[] | undefined): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [];
}

/** One spelling per address (IPv6 compressed, lower case) so `::0` and `::` compare equal. */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}
