/**
 * `npm run bench` — Lessor's performance bench (bench/README.md). Sections:
 *   control-plane  (1) create→ready with the fake provider, c = 1/16/128, per engine+database
 *   containers     (2) docker provider vs the same container through the engine API directly
 *   scale          (3) 100 000 tenants: GET/list p99, resync pass, idle CPU and RSS
 *   api            (4) GET /v1/tenants/{name} rps (autocannon) vs a bare Fastify route
 *   dashboard      (5) 100 000 tenants: the dashboard's Tenants view interactive in headless Chromium; JS size
 *   profile        CPU profile + SQL statement counts of create→ready and GET (full mode)
 *   rollouts       (6) a 10 000-tenant rollout in waves: start→succeeded; halt at 5 % failing
 * Flags: --quick (CI, < 2 min), --only NAME[,NAME], --no-nice (by default the bench raises its own
 * priority and its autogroup's to nice -10, inherited by the Lessor children, so that unrelated load
 * on a shared box disturbs less; PostgreSQL and Podman keep theirs), --keep (keep the work dir).
 * Prints a table and writes
 * bench/results/<date>-<mode>.json and bench/results/latest-<mode>.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { experimentEnv } from './lib/lessor-process.js';
import { gitInfo, loadNow, machineInfo } from './lib/machine.js';
import { printReport, writeReport, type SectionName } from './lib/report.js';
import { describeError, type SectionContext } from './lib/section.js';
import { apiSection } from './sections/api.js';
import { containersSection } from './sections/containers.js';
import { controlPlaneSection } from './sections/control-plane.js';
import { dashboardSection } from './sections/dashboard.js';
import { profileSection } from './sections/profile.js';
import { resumeSection } from './sections/resume.js';
import { rolloutsSection } from './sections/rollouts.js';
import { scaleSection } from './sections/scale.js';
import { webhooksSection } from './sections/webhooks.js';

const SECTIONS: Record<SectionName, (ctx: SectionContext) => Promise<unknown>> = {
  'control-plane': controlPlaneSection,
  containers: containersSection,
  resume: resumeSection,
  scale: scaleSection,
  api: apiSection,
  dashboard: dashboardSection,
  profile: profileSection,
  webhooks: webhooksSection,
  rollouts: rolloutsSection,
};
const QUICK_SECTIONS: readonly SectionName[] = [
  'control-plane',
  'containers',
  'resume',
  'scale',
  'api',
  'dashboard',
];
const FULL_SECTIONS: readonly SectionName[] = [...QUICK_SECTIONS, 'profile', 'webhooks', 'rollouts'];

/**
 * Raises the bench's priority: the process nice value (inherited by the children) and, since Linux
 * with autogroups shares the CPU between sessions before nice counts, the session's autogroup.
 */
function raisePriority(wanted: boolean): { nice: number; autogroup: string } {
  if (wanted) {
    try {
      setPriority(-10);
      writeFileSync('/proc/self/autogroup', '-10');
    } catch {
      // not permitted: measure at normal priority
    }
  }
  let autogroup = 'n/a';
  try {
    autogroup = readFileSync('/proc/self/autogroup', 'utf8').trim();
  } catch {
    // no autogroups
  }
  return { nice: getPriority(), autogroup };
}

function parseArgs(argv: readonly string[]): {
  quick: boolean;
  only: SectionName[];
  keep: boolean;
  nice: boolean;
} {
  const quick = argv.includes('--quick');
  const nice = !argv.includes('--no-nice');
  const keep = argv.includes('--keep');
  const index = argv.indexOf('--only');
  const inline = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const value = inline ?? (index >= 0 ? argv[index + 1] : undefined);
  const only =
    value === undefined
      ? [...(quick ? QUICK_SECTIONS : FULL_SECTIONS)]
      : value.split(',').map((s) => s.trim());
  for (const name of only) {
    if (!(name in SECTIONS))
      throw new Error(`unknown section '${name}' (known: ${Object.keys(SECTIONS).join(', ')})`);
  }
  return { quick, only: only as SectionName[], keep, nice };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.quick ? 'quick' : 'full';
  const workDir = mkdtempSync(join(tmpdir(), 'lessor-bench-'));
  const started = Date.now();
  const log = (message: string): void => {
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  };
  const ctx: SectionContext = { quick: args.quick, workDir, log };
  const priority = raisePriority(args.nice);
  const report = {
    mode,
    date: new Date().toISOString(),
    git: gitInfo(),
    machine: machineInfo(),
    /** Proposed fixes tried through bench/lib/experiments.ts (none in a plain run). */
    experiments: experimentEnv(),
    priority: {
      ...priority,
      note: 'bench, Lessor and Restate children; PostgreSQL and Podman run at their own priority',
    },
    sections: {} as Record<string, unknown>,
    errors: {} as Record<string, string>,
    durationS: 0,
    loadavgAtEnd: 0,
  };
  log(`mode ${mode}, sections ${args.only.join(', ')}, work dir ${workDir}`);
  for (const name of args.only) {
    const sectionStarted = Date.now();
    try {
      report.sections[name] = await SECTIONS[name](ctx);
    } catch (error) {
      report.errors[name] = describeError(error);
      log(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    log(`${name} took ${((Date.now() - sectionStarted) / 1000).toFixed(1)} s`);
  }
  report.durationS = Math.round((Date.now() - started) / 100) / 10;
  report.loadavgAtEnd = loadNow();
  printReport(report);
  const all = (args.quick ? QUICK_SECTIONS : FULL_SECTIONS).every((name) => args.only.includes(name));
  const label = `${all ? mode : `${mode}-${args.only.join('+')}`}${Object.keys(report.experiments).length > 0 ? '-experiment' : ''}`;
  const files = writeReport(report, label);
  log(`wrote ${files.join(', ')}`);
  if (!args.keep) rmSync(workDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
