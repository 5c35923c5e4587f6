/**
 * RFC 6902 operations (the server's dry-run and revision diffs) as readable lines: `+ /labels/tier:
 * "gold"` for an add, `- /labels/tier` for a remove, `~ /config/image: "nginx:1.27"` for a replace.
 * Pure (unit-tested under Node). Secret values arrive from the server as `"***"` and stay so.
 */
import type { PatchOperation } from '../../../src/api/types.js';

export interface PatchLine {
  readonly op: '+' | '-' | '~';
  readonly text: string;
}

const MAX_VALUE = 200;

/** A JSON Pointer as written (`/labels/a~1b` → `/labels/a/b` would be ambiguous, so it is kept). */
function value(v: unknown): string {
  const text = JSON.stringify(v) ?? 'null';
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

export function patchLines(ops: readonly PatchOperation[]): PatchLine[] {
  return ops.map((op) => {
    switch (op.op) {
      case 'add':
        return { op: '+', text: `${op.path}: ${value(op.value)}` };
      case 'remove':
        return { op: '-', text: op.path };
      case 'replace':
        return { op: '~', text: `${op.path}: ${value(op.value)}` };
      case 'move':
        return { op: '~', text: `${op.path} ← moved from ${op.from ?? '?'}` };
      case 'copy':
        return { op: '+', text: `${op.path} ← copied from ${op.from ?? '?'}` };
      default:
        return { op: '~', text: `${op.op} ${op.path}` };
    }
  });
}

/** `2 changes` / `1 change` / `no change`. */
export function changeCount(ops: readonly unknown[]): string {
  if (ops.length === 0) return 'no change';
  return `${ops.length} change${ops.length === 1 ? '' : 's'}`;
}
