/** Formatting for display: pure functions, no DOM (unit-tested under Node). */
import type { Phase } from '../../../src/domain/tenant.js';

/** Phases in the order the dashboard shows them: working first, then settled. */
export const PHASE_ORDER: readonly Phase[] = [
  'requested',
  'provisioning',
  'updating',
  'deleting',
  'ready',
  'suspended',
  'failed',
  'archived',
];

/** How a phase reads at a glance: `ok`, `busy`, `bad` or `off` (drives its badge colour). */
export function phaseTone(phase: Phase): 'ok' | 'busy' | 'bad' | 'off' {
  if (phase === 'ready') return 'ok';
  if (phase === 'failed') return 'bad';
  if (phase === 'archived' || phase === 'suspended') return 'off';
  return 'busy';
}

const UNITS: readonly [number, Intl.RelativeTimeFormatUnit][] = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [30, 'day'],
  [12, 'month'],
  [Number.POSITIVE_INFINITY, 'year'],
];

/** One formatter for every call: building an Intl formatter costs more than formatting. */
let relative: Intl.RelativeTimeFormat | undefined;

/** `3 min ago`, `in 2 h`, `just now`, relative to `now`; `—` for a missing or unreadable time. */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '—';
  let delta = (at - now) / 1000;
  if (Math.abs(delta) < 5) return 'just now';
  for (const [size, unit] of UNITS) {
    if (Math.abs(delta) < size) {
      relative ??= new Intl.RelativeTimeFormat('en', { numeric: 'always', style: 'short' });
      return relative.format(Math.round(delta), unit);
    }
    delta /= size;
  }
  return '—';
}

/** `850 ms`, `1.2 s`, `3 min 5 s`, `2 h 4 min`; `—` for null or negative. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Time between two ISO instants (`end` missing: still running, measured to `now`). */
export function elapsed(start: string | null, end: string | null, now: number): string {
  if (!start) return '—';
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : now;
  return duration(to - from);
}

/** `1 234 567` with thin spaces: counts stay readable at fleet size. */
export function count(n: number): string {
  return Math.trunc(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** Labels as `k=v` pairs, sorted by key. */
export function labelPairs(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
}

/** `plan=pro, tier=gold` typed by a user → a `{key: value}` map; throws on a malformed pair. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',')) {
    const pair = part.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`"${pair}" is not key=value`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** An event in one line: `requested → provisioning: provision run started`. */
export function eventLine(event: {
  readonly type: string;
  readonly fromPhase: Phase | null;
  readonly toPhase: Phase | null;
  readonly message: string;
  readonly reason: string;
}): string {
  const text = event.message || event.reason;
  if (event.toPhase && event.fromPhase && event.fromPhase !== event.toPhase) {
    return `${event.fromPhase} → ${event.toPhase}${text ? `: ${text}` : ''}`;
  }
  return `${event.type}${text ? `: ${text}` : ''}`;
}

/** Any JSON value, indented, for read-only display. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? String(value);
}
