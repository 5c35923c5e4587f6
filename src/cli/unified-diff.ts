/**
 * A unified diff of two texts, line by line (`diff -u` style, 3 lines of context), for showing how a
 * spec or plan changes as YAML. Pure. The edit script is a longest common subsequence of the lines,
 * which is exact for the small documents the CLI compares; past `MAX_CELLS` comparisons the
 * differing middle is shown as removed and added whole instead.
 */

export interface UnifiedDiffOptions {
  /** Labels of the `---` and `+++` lines. */
  readonly fromLabel: string;
  readonly toLabel: string;
  /** ANSI colours (red removals, green additions, cyan hunk headers): only on a terminal. */
  readonly color?: boolean;
  readonly context?: number;
}

type Edit = { readonly op: ' ' | '-' | '+'; readonly text: string };

const MAX_CELLS = 4_000_000;
const COLORS = { '-': '\u001b[31m', '+': '\u001b[32m', '@': '\u001b[36m', reset: '\u001b[0m' } as const;

/** The diff, ending in a newline; `''` when the texts are equal. */
export function unifiedDiff(from: string, to: string, options: UnifiedDiffOptions): string {
  if (from === to) return '';
  const edits = editScript(lines(from), lines(to));
  const hunks = groupHunks(edits, options.context ?? 3);
  const paint = (kind: keyof typeof COLORS, text: string) =>
    options.color ? `${COLORS[kind]}${text}${COLORS.reset}` : text;
  const out = [paint('-', `--- ${options.fromLabel}`), paint('+', `+++ ${options.toLabel}`)];
  for (const hunk of hunks) {
    out.push(paint('@', hunk.header));
    for (const edit of hunk.edits) {
      const line = `${edit.op}${edit.text}`;
      out.push(edit.op === ' ' ? line : paint(edit.op, line));
    }
  }
  return `${out.join('\n')}\n`;
}

function lines(text: string): string[] {
  if (text === '') return [];
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all;
}

/** Common prefix and suffix kept as they are; the middle by LCS. */
function editScript(a: readonly string[], b: readonly string[]): Edit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const same = (text: string): Edit => ({ op: ' ', text });
  return [
    ...a.slice(0, start).map(same),
    ...middle(a.slice(start, endA), b.slice(start, endB)),
    ...a.slice(endA).map(same),
  ];
}

function middle(a: readonly string[], b: readonly string[]): Edit[] {
  const removed = a.map((text): Edit => ({ op: '-', text }));
  const added = b.map((text): Edit => ({ op: '+', text }));
  if (a.length === 0 || b.length === 0 || a.length * b.length > MAX_CELLS) return [...removed, ...added];
  const width = b.length + 1;
  // lcs[i * width + j]: length of the LCS of a[i..] and b[j..].
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      edits.push({ op: ' ', text: a[i] ?? '' });
      i += 1;
      j += 1;
    } else if ((lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0)) {
      edits.push({ op: '-', text: a[i] ?? '' });
      i += 1;
    } else {
      edits.push({ op: '+', text: b[j] ?? '' });
      j += 1;
    }
  }
  for (; i < a.length; i += 1) edits.push({ op: '-', text: a[i] ?? '' });
  for (; j < b.length; j += 1) edits.push({ op: '+', text: b[j] ?? '' });
  return edits;
}

interface Hunk {
  readonly header: string;
  readonly edits: readonly Edit[];
}

/** Runs of changes with `context` unchanged lines around them; runs closer than 2×context merge. */
function groupHunks(edits: readonly Edit[], context: number): Hunk[] {
  const changed = edits.flatMap((e, index) => (e.op === ' ' ? [] : [index]));
  const ranges: [number, number][] = [];
  for (const index of changed) {
    const last = ranges[ranges.length - 1];
    const start = Math.max(0, index - context);
    const end = Math.min(edits.length, index + context + 1);
    if (last && start <= last[1]) last[1] = end;
    else ranges.push([start, end]);
  }
  // Line numbers (1-based) in each text at each edit index.
  const fromLine: number[] = [];
  const toLine: number[] = [];
  let a = 1;
  let b = 1;
  for (const edit of edits) {
    fromLine.push(a);
    toLine.push(b);
    if (edit.op !== '+') a += 1;
    if (edit.op !== '-') b += 1;
  }
  return ranges.map(([start, end]) => {
    const slice = edits.slice(start, end);
    const fromCount = slice.filter((e) => e.op !== '+').length;
    const toCount = slice.filter((e) => e.op !== '-').length;
    const fromStart = fromCount === 0 ? (fromLine[start] ?? 1) - 1 : (fromLine[start] ?? 1);
    const toStart = toCount === 0 ? (toLine[start] ?? 1) - 1 : (toLine[start] ?? 1);
    return { header: `@@ -${fromStart},${fromCount} +${toStart},${toCount} @@`, edits: slice };
  });
}
