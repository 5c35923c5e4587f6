/** The server's RFC 6902 diff as a listing: `+` added, `-` removed, `~` replaced (marked, not by colour alone). */
import type { PatchOperation } from '../../../src/api/types.js';
import { patchLines } from '../lib/patch.js';

export function PatchView({ ops, label }: { ops: readonly PatchOperation[]; label: string }) {
  if (ops.length === 0) return <p class="muted">No change.</p>;
  return (
    <pre class="diff" aria-label={label} tabIndex={0} data-testid="patch">
      {patchLines(ops).map((line, i) => (
        <div key={i} class={line.op === '+' ? 'add' : line.op === '-' ? 'del' : 'chg'}>
          {line.op} {line.text}
        </div>
      ))}
    </pre>
  );
}
