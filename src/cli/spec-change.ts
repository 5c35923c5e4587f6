/**
 * How a change of a spec or plan is shown in table mode: a unified diff of the two documents as
 * YAML (coloured on a terminal), plus one line per secret value that changed — secrets read `"***"`
 * on both sides, so only the server's RFC 6902 patch (whose value is `"***"`) tells that they did.
 */
import type { PatchOperation } from '../api/types.js';
import { renderYaml } from './output.js';
import { unifiedDiff } from './unified-diff.js';

export interface SpecChange {
  /** The document before; `undefined` when the change creates it. */
  readonly from: unknown;
  readonly to: unknown;
  readonly fromLabel: string;
  readonly toLabel: string;
  /** The server's patch from `from` to `to`, when it has one (secret changes are read from it). */
  readonly patch?: readonly PatchOperation[] | undefined;
  readonly color: boolean;
}

/** The diff text (ending in a newline), or `''` when nothing differs. */
export function renderSpecChange(change: SpecChange): string {
  const from = change.from === undefined ? '' : renderYaml(change.from);
  const text = unifiedDiff(from, renderYaml(change.to), {
    fromLabel: change.fromLabel,
    toLabel: change.toLabel,
    color: change.color,
  });
  const secrets = changedSecrets(change);
  if (secrets.length === 0) return text;
  const header = text === '' ? `--- ${change.fromLabel}\n+++ ${change.toLabel}\n` : text;
  return `${header}${secrets.map((path) => `~ ${path}: secret value changed\n`).join('')}`;
}

/** Pointers the patch replaces whose value reads `"***"` on both sides. */
function changedSecrets(change: SpecChange): string[] {
  if (change.from === undefined) return [];
  return (change.patch ?? [])
    .filter(
      (op) =>
        (op.op === 'replace' || op.op === 'add') &&
        op.value === '***' &&
        pointerValue(change.from, op.path) === '***' &&
        pointerValue(change.to, op.path) === '***',
    )
    .map((op) => op.path);
}

/** The value at a JSON Pointer (RFC 6901), or undefined. */
export function pointerValue(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}
