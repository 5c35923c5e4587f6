/**
 * The process provider's state on disk, one directory per tenant: `<dataDir>/process/<tenant-name>/`
 * holding `runtime.json` (the process serving the tenant), `runtime.next.json` (a replacement being
 * started by an update: the "create pending" marker), `runtime.retiring.json` (the old process while
 * it is being stopped) — so a crash mid-update never leaves an untracked process — and
 * `stdout.log` / `stderr.log` (process-logs.ts). Records are written atomically (temp file + rename).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HealthCheckConfig } from './process-schema.js';

export type RecordSlot = 'runtime' | 'runtime.next' | 'runtime.retiring';

export interface RuntimeRecord {
  readonly version: 1;
  readonly tenantId: string;
  readonly tenantName: string;
  readonly pid: number;
  /** Process start time (clock ticks since boot, /proc/<pid>/stat field 22): detects pid reuse. */
  readonly startMarker: string;
  readonly generation: number;
  readonly executionId: string;
  readonly port: number;
  /** Keyed hash of the effective config (the server's hasher: no plain hash of secrets on disk). */
  readonly configHash: string;
  /** Keyed hash per top-level config field: what an update reports as changed. */
  readonly fieldHashes: Readonly<Record<string, string>>;
  readonly healthCheck: HealthCheckConfig | null;
  readonly startedAt: string;
}

export function tenantDir(dataDir: string, tenantName: string): string {
  return join(dataDir, 'process', tenantName);
}

/** `<dataDir>/process`, Lessor's user's alone (0700), tightened when an older one is looser. */
export async function secureStateRoot(dataDir: string): Promise<void> {
  const root = join(dataDir, 'process');
  await mkdir(root, { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function readRecord(dir: string, slot: RecordSlot): Promise<RuntimeRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, `${slot}.json`), 'utf8')) as RuntimeRecord;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (error instanceof SyntaxError) return undefined; // torn by a crash before rename: never complete
    throw error;
  }
}

export async function writeRecord(dir: string, slot: RecordSlot, record: RuntimeRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${slot}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(dir, `${slot}.json`));
}

export async function removeRecord(dir: string, slot: RecordSlot): Promise<void> {
  await rm(join(dir, `${slot}.json`), { force: true });
}

export async function removeTenantDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
