/**
 * The server children run compiled JavaScript, as the `lessor` command does (bin/lessor.js runs
 * dist/): under tsx the child also carries the TypeScript loader — a hooks thread, transpiled-source
 * caches, about 30 MB of RSS and some idle CPU — which the idle and RSS figures would count as
 * Lessor's. The entries (bench-server.ts, bare-fastify.ts) and everything they import are compiled
 * once per bench run with the project's own tsconfig, into bench/.build (inside the project, so
 * node_modules resolves from there; git-ignored).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './machine.js';

const BUILD_DIR = join(PROJECT_ROOT, 'bench', '.build');
export const SERVER_ENTRIES = ['bench/lib/bench-server.ts', 'bench/lib/bare-fastify.ts'] as const;

let built: Promise<void> | undefined;

async function compile(): Promise<void> {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  const tsconfig = join(BUILD_DIR, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: '../..', outDir: '.', noEmit: false, sourceMap: false },
      include: [],
      files: SERVER_ENTRIES.map((entry) => join('../..', entry)),
    }),
  );
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', tsconfig], { cwd: PROJECT_ROOT });
}

/** The compiled file of `entry` (one of SERVER_ENTRIES), compiling all entries on first use. */
export async function compiledEntry(entry: (typeof SERVER_ENTRIES)[number]): Promise<string> {
  built ??= compile();
  await built;
  return join(BUILD_DIR, entry.replace(/\.ts$/, '.js'));
}
