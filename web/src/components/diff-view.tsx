/** A line diff as a listing: removed lines marked `-`, added `+` (not by colour alone, and read out). */
import type { DiffLine } from '../lib/diff.js';

export function DiffView({ diff, label }: { diff: readonly DiffLine[]; label: string }) {
  return (
    <pre class="diff" aria-label={label} tabIndex={0}>
      {diff.map((line, i) => (
        <div key={i} class={line.op === '+' ? 'add' : line.op === '-' ? 'del' : 'same'}>
          {line.op} {line.text}
        </div>
      ))}
    </pre>
  );
}
