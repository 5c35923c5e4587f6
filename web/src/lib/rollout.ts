/**
 * Rollout helpers of the dashboard, pure (unit-tested under Node): which controls a phase offers
 * (the server decides, these only hide buttons that could not work), parsing the create form's
 * wave and index lists, and a wave's progress as bar segments.
 */
import type { Rollout, RolloutCommand, RolloutPhase } from '../../../src/api/types.js';

const COMMANDS: Readonly<Record<RolloutPhase, readonly RolloutCommand[]>> = {
  pending: ['abort', 'rollback'],
  running: ['pause', 'abort', 'rollback'],
  paused: ['resume', 'promote', 'abort', 'rollback'],
  halted: ['resume', 'abort', 'rollback'],
  succeeded: [],
  aborted: [],
  rollingBack: [],
  rolledBack: [],
};

export function rolloutCommands(phase: RolloutPhase): readonly RolloutCommand[] {
  return COMMANDS[phase];
}

/** Whether the rollout may still change (its page keeps following it). */
export function rolloutActive(phase: RolloutPhase): boolean {
  return phase !== 'succeeded' && phase !== 'aborted' && phase !== 'rolledBack';
}

/** `1, 10%, 100%` → `[1, '10%', '100%']`; throws naming the first bad entry. */
export function parseWaves(text: string): (number | string)[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('waves: give at least one wave, e.g. 10%, 100%');
  return parts.map((part) => {
    if (/^\d+(\.\d{1,2})?%$/.test(part)) return part;
    if (/^\d+$/.test(part)) return Number(part);
    throw new Error(`waves: "${part}" is neither a count nor a percent such as 10%`);
  });
}

/** `0, 2` → `[0, 2]` (empty text: `[]`); throws on anything but whole numbers. */
export function parseIndexes(text: string, what: string): number[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((part) => {
      if (!/^\d+$/.test(part)) throw new Error(`${what}: "${part}" is not a whole number`);
      return Number(part);
    });
}

/** `a, b c` → `['a', 'b', 'c']`: names split on commas and white space. */
export function parseNames(text: string): string[] {
  return text.split(/[\s,]+/).filter((p) => p !== '');
}

export type Wave = Rollout['status']['waves'][number];

/** A wave's members as bar segments in percent of the wave, in a fixed order; empty parts left out. */
export function waveSegments(
  wave: Wave,
): { tone: 'ok' | 'busy' | 'bad' | 'off'; label: string; percent: number }[] {
  if (wave.size === 0) return [];
  const parts = [
    { tone: 'ok' as const, label: 'succeeded', n: wave.succeeded },
    { tone: 'busy' as const, label: 'in progress', n: wave.inProgress },
    { tone: 'bad' as const, label: 'failed', n: wave.failed },
    { tone: 'off' as const, label: 'skipped or rolled back', n: wave.skipped + wave.rolledBack },
  ];
  return parts
    .filter((p) => p.n > 0)
    .map((p) => ({ tone: p.tone, label: p.label, percent: (p.n / wave.size) * 100 }));
}

/** `3/10 succeeded, 1 failed, 2 in progress` — the wave's progress in words (what the bar shows). */
export function waveSummary(wave: Wave): string {
  const parts = [`${wave.succeeded}/${wave.size} succeeded`];
  if (wave.inProgress > 0) parts.push(`${wave.inProgress} in progress`);
  if (wave.failed > 0) parts.push(`${wave.failed} failed`);
  if (wave.skipped > 0) parts.push(`${wave.skipped} skipped`);
  if (wave.rolledBack > 0) parts.push(`${wave.rolledBack} rolled back`);
  return parts.join(', ');
}

/**
 * The active rollouts from one page per phase, each once, newest first. The pages are read in
 * parallel, so a rollout that moves between phases meanwhile (running → paused) can be on two
 * of them; the copy updated last wins.
 */
export function mergeActiveRollouts(pages: readonly (readonly Rollout[])[]): Rollout[] {
  const byId = new Map<string, Rollout>();
  for (const rollout of pages.flat()) {
    const seen = byId.get(rollout.id);
    if (seen === undefined || seen.updatedAt < rollout.updatedAt) byId.set(rollout.id, rollout);
  }
  return [...byId.values()].sort((a, b) =>
    a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1,
  );
}
