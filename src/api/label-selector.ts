/**
 * Label selectors in the `labels` query parameter: `plan=pro,tier!=free` (also `==`). Keys and values
 * follow the label rules of `spec.labels`; anything else is a client error with a message saying
 * which requirement is wrong. Pure.
 */
import type { LabelRequirement } from '../store/store.js';
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from './schemas.js';

export const MAX_SELECTOR_REQUIREMENTS = 20;

export type SelectorResult =
  | { readonly ok: true; readonly requirements: readonly LabelRequirement[] }
  | { readonly ok: false; readonly message: string };

export function parseLabelSelector(selector: string): SelectorResult {
  const parts = selector.split(',');
  if (parts.length > MAX_SELECTOR_REQUIREMENTS) {
    return { ok: false, message: `at most ${MAX_SELECTOR_REQUIREMENTS} requirements` };
  }
  const requirements: LabelRequirement[] = [];
  for (const part of parts) {
    const requirement = parseRequirement(part.trim());
    if (typeof requirement === 'string') return { ok: false, message: requirement };
    requirements.push(requirement);
  }
  return { ok: true, requirements };
}

function parseRequirement(text: string): LabelRequirement | string {
  const match = /^([^=!]*)(==|!=|=)(.*)$/.exec(text);
  if (!match) return `'${clip(text)}' is not key=value or key!=value`;
  const [, rawKey, rawOp, value] = match as unknown as [string, string, string, string];
  const key = rawKey.trim();
  if (!LABEL_KEY_PATTERN.test(key)) return `'${clip(key)}' is not a valid label key`;
  if (!LABEL_VALUE_PATTERN.test(value)) return `'${clip(value)}' is not a valid label value`;
  return { key, op: rawOp === '!=' ? '!=' : '=', value };
}

/** Echo at most 40 printable characters of client input in a message. */
function clip(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

export function formatLabelSelector(requirements: readonly LabelRequirement[]): string {
  return requirements.map((r) => `${r.key}${r.op}${r.value}`).join(',');
}
