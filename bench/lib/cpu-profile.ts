/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per code area
 * (a src/ folder, a node_modules package, node internals, GC, idle), so hot spots can be named by
 * file and function.
 */
import { readFileSync } from 'node:fs';
import { round } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  readonly name: string;
  readonly selfMs: number;
  readonly selfPct: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idlePct: number;
  readonly functions: readonly HotSpot[];
  readonly areas: readonly HotSpot[];
}

/** `src/store`, `node_modules/kysely`, `node:internal`, `(garbage collector)` … */
export function areaOf(compiledUrl: string, functionName: string): string {
  const url = fromServerBuild(compiledUrl);
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `npm:${modules[1] ?? '?'}`;
  const src = /\/(src|bench)\/([^/]+)(?:\/([^/]+))?\//.exec(url);
  if (src) {
    const [, root = '', folder = '', sub] = src;
    return sub !== undefined && folder === 'compute' ? `${root}/${folder}/${sub}` : `${root}/${folder}`;
  }
  if (url.startsWith('node:')) return 'node:internal';
  return url.replace(/^file:\/\//, '');
}

/** A file of the compiled server (server-build.ts) named as its source: `src/…`, `bench/…`. */
function fromServerBuild(url: string): string {
  return url.replace('/bench/.build/', '/');
}

function shortUrl(compiledUrl: string): string {
  const url = fromServerBuild(compiledUrl);
  const cut = url.search(/\/(src|bench|node_modules)\//);
  return cut >= 0 ? url.slice(cut + 1) : url.replace(/^file:\/\//, '');
}

/**
 * Self time is each sample's time delta, counted for the frame it landed on — except the first
 * sample's: V8 measures that one from the profile's start, and the first sample came 170–190 ms after
 * `Profiler.start` in the bench's profiles, landing on the inspector's `dispatch` of that very call,
 * which made `dispatch` 4–5 % of a window it did not run in. The profile covers from its first sample on.
 */
export function summariseProfile(file: string, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  for (let i = 1; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += us;
    const name =
      url === ''
        ? functionName || '(anonymous)'
        : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  const rank = (map: Map<string, number>, n: number): HotSpot[] =>
    [...map.entries()]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        selfMs: round(us / 1000, 1),
        selfPct: round((us / Math.max(busy, 1)) * 100, 1),
      }));
  return {
    totalMs: round(total / 1000, 0),
    idlePct: round((idle / Math.max(total, 1)) * 100, 1),
    functions: rank(byFunction, top),
    areas: rank(byArea, 25),
  };
}
