/**
 * A small tmpfs of its own, for suites that need a disk that really fills up. Mounting needs root
 * (CAP_SYS_ADMIN), as CI has: `mountTmpfs` fails loudly otherwise — a suite about full disks must
 * not quietly pass without one. `unmount` is idempotent and also runs when the test process exits,
 * so a failing suite leaves no mount behind; it detaches lazily when a killed server still holds files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Free bytes left on the filesystem. */
  freeBytes(): number;
  unmount(): void;
}

const mounted = new Set<Tmpfs>();
process.once('exit', () => {
  for (const fs of mounted) fs.unmount();
});

export function mountTmpfs(sizeBytes: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'lessor-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new Error(`this suite needs to mount a tmpfs (run as root, as CI does): ${detail}`);
  }
  let done = false;
  const fs: Tmpfs = {
    dir,
    freeBytes: () => {
      const stats = statfsSync(dir);
      return stats.bavail * stats.bsize;
    },
    unmount: () => {
      if (done) return;
      done = true;
      mounted.delete(fs);
      try {
        execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  mounted.add(fs);
  return fs;
}
