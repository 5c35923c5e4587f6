#!/usr/bin/env node
// Runs the test suites with node:test through tsx. Node 20's `--test` does not expand globs, so the
// file list is collected here.
//
//   node scripts/run-tests.mjs                    every src/**/*.test.ts, test/**/*.test.ts and
//                                                 web/src/**/*.test.ts (the dashboard's own logic)
//                                                 (test/reliability in its bounded default form)
//   node scripts/run-tests.mjs --reliability      only test/reliability/**/*.test.ts
//   node scripts/run-tests.mjs --only config      only files whose path contains "config"
//                                                 (repeatable: a file matching any pattern runs)
//   node scripts/run-tests.mjs --list             print the selected files, run nothing
//   node scripts/run-tests.mjs -- --test-name-pattern=precedence   extra flags for node
//
// Environment: LESSOR_TEST_CONCURRENCY (files run in parallel, default 2: a 2-core machine),
// LESSOR_TEST_TIMEOUT_MS (per-test timeout, default 300000, so a hung test fails instead of
// hanging CI). The exit code is node's.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'data', 'coverage', '.tmp']);
const RELIABILITY_DIR = 'test/reliability/';

function usage(message) {
  if (message) console.error(`run-tests: ${message}`);
  console.error(
    'usage: node scripts/run-tests.mjs [--reliability] [--only PATTERN]... [--list] [-- NODE_FLAGS...]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const options = { reliability: false, list: false, only: [], nodeFlags: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      options.nodeFlags.push(...argv.slice(i + 1));
      break;
    } else if (arg === '--reliability') {
      options.reliability = true;
    } else if (arg === '--list') {
      options.list = true;
    } else if (arg === '--only') {
      const pattern = argv[++i];
      if (!pattern) usage('--only needs a PATTERN');
      options.only.push(pattern);
    } else if (arg.startsWith('--only=')) {
      options.only.push(arg.slice('--only='.length));
    } else if (arg === '--help' || arg === '-h') {
      usage();
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  return options;
}

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) usage(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** Every `*.test.ts` under `dir`, as a forward-slash path relative to the repository root. */
function collectTests(dir) {
  const found = [];
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') return found;
    throw error;
  }
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) found.push(...collectTests(path));
    } else if (entry.name.endsWith('.test.ts') && statSync(join(root, path)).isFile()) {
      found.push(path);
    }
  }
  return found;
}

function selectFiles(options) {
  const all = [...collectTests('src'), ...collectTests('test'), ...collectTests('web/src')].sort();
  const bySuite = options.reliability ? all.filter((file) => file.startsWith(RELIABILITY_DIR)) : all;
  if (options.only.length === 0) return bySuite;
  return bySuite.filter((file) => options.only.some((pattern) => file.includes(pattern)));
}

const options = parseArgs(process.argv.slice(2));
const files = selectFiles(options);
if (files.length === 0) {
  const what = [
    options.reliability && 'under test/reliability',
    ...options.only.map((p) => `matching "${p}"`),
  ]
    .filter(Boolean)
    .join(' ');
  console.error(`run-tests: no test files found${what ? ` ${what}` : ''}`);
  process.exit(1);
}

if (options.list) {
  console.log(files.join('\n'));
  process.exit(0);
}

const concurrency = positiveInt('LESSOR_TEST_CONCURRENCY', 2);
const timeoutMs = positiveInt('LESSOR_TEST_TIMEOUT_MS', 300_000);
const args = [
  '--import',
  'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${timeoutMs}`,
  '--test-reporter=spec',
  ...options.nodeFlags,
  ...files,
];
console.error(
  `run-tests: ${files.length} file(s), concurrency ${concurrency}` +
    (options.reliability ? ', reliability suite only' : ''),
);

const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`run-tests: could not start node: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: node was killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
