/** Prints the bench tables and target checks, and writes the JSON result files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { PROJECT_ROOT } from './machine.js';
import type { PrintableTable, SectionOutput, TargetCheck } from './section.js';

export type SectionName =
  | 'control-plane'
  | 'containers'
  | 'resume'
  | 'scale'
  | 'api'
  | 'dashboard'
  | 'profile'
  | 'webhooks'
  | 'rollouts';

export interface BenchReport {
  readonly mode: string;
  readonly date: string;
  readonly git: { commit: string | null; dirtySrc: boolean };
  readonly machine: {
    cpus: number;
    model: string;
    memGb: number;
    node: string;
    os: string;
    loadavgAtStart: readonly number[];
  };
  readonly experiments: Record<string, string>;
  readonly priority: { nice: number; autogroup: string; note: string };
  readonly sections: Record<string, unknown>;
  readonly errors: Record<string, string>;
  readonly durationS: number;
  readonly loadavgAtEnd: number;
}

function render(table: PrintableTable): string {
  const out = new Table({ head: [...table.head], style: { head: [], border: [] } });
  for (const row of table.rows) out.push(row.map((cell) => (cell === null ? '-' : String(cell))));
  return `${table.title}\n${out.toString()}`;
}

function isOutput(value: unknown): value is SectionOutput {
  return typeof value === 'object' && value !== null && Array.isArray((value as SectionOutput).tables);
}

export function printReport(report: BenchReport): void {
  const m = report.machine;
  const lines: string[] = [
    '',
    `Lessor bench (${report.mode}) — ${report.date}`,
    `commit ${report.git.commit ?? 'unknown'}${report.git.dirtySrc ? ' (+ uncommitted changes in src/)' : ''}`,
    `${m.cpus} × ${m.model}, ${m.memGb} GB, ${m.os}, Node ${m.node}; load average ${m.loadavgAtStart.join(' ')} → ${report.loadavgAtEnd}`,
    `client (load generator, watcher, autocannon) in the bench process; Lessor in a child process; nice ${report.priority.nice}, ${report.priority.autogroup}`,
    '',
  ];
  const experiments = Object.entries(report.experiments).map(([k, v]) => `${k}=${v}`);
  if (experiments.length > 0)
    lines.push(`EXPERIMENTS ACTIVE (not the code as committed): ${experiments.join(' ')}`, '');
  const targets: TargetCheck[] = [];
  for (const [name, section] of Object.entries(report.sections)) {
    if (!isOutput(section)) continue;
    for (const table of section.tables) lines.push(render(table), '');
    for (const note of section.notes) lines.push(`  ${name}: ${note}`);
    if (section.notes.length > 0) lines.push('');
    targets.push(...section.targets);
  }
  for (const [name, error] of Object.entries(report.errors)) lines.push(`  ${name}: FAILED — ${error}`);
  if (targets.length > 0) {
    const verdict = (met: boolean | null) => (met === null ? 'n/a' : met ? 'met' : 'MISSED');
    lines.push(
      render({
        title: 'Targets (2-core machine)',
        head: ['target', 'measured', 'goal', ''],
        rows: targets.map((t) => [t.name, t.value, t.target, verdict(t.met)]),
      }),
    );
  }
  lines.push(`total ${report.durationS} s`, '');
  process.stdout.write(lines.join('\n'));
}

/** Writes `<date>-<label>.json` and `latest-<label>.json` under bench/results/. */
export function writeReport(report: BenchReport, label: string): string[] {
  const dir = join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = report.date.slice(0, 19).replace(/:/g, '-');
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const files = [join(dir, `${stamp}-${label}.json`), join(dir, `latest-${label}.json`)];
  for (const file of files) writeFileSync(file, text);
  return files;
}
