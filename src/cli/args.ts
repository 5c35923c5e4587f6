/**
 * Parsing of command-line values: `K=V` pairs, ports, label selectors, shell-like command lines and
 * durations. Pure. Every failure throws `UsageError`, which the CLI reports with exit code 2.
 */
import { PHASES, type Phase } from '../domain/tenant.js';

/** A mistake in how the command was invoked (bad flag value, unreadable file): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `KEY=VALUE` (the value may contain `=` and may be empty). */
export function parseKeyValue(text: string, what = 'KEY=VALUE'): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new UsageError(`expected ${what}, got '${text}'`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** Commander accumulator for a repeatable `K=V` flag; a later key wins. */
export function collectKeyValue(
  text: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const [key, value] = parseKeyValue(text);
  return { ...previous, [key]: value };
}

/** Commander accumulator for a repeatable flag with free-form values. */
export function collectList(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}

export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly protocol?: 'tcp' | 'udp';
}

function portNumber(text: string, what: string, allowZero: boolean): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value > 65535 || value < (allowZero ? 0 : 1)) {
    throw new UsageError(`${what} must be a number between ${allowZero ? 0 : 1} and 65535, got '${text}'`);
  }
  return value;
}

/** `containerPort[:hostPort][/tcp|udp]`, e.g. `80`, `80:8080`, `53/udp`. */
export function parsePort(text: string): PortMapping {
  const match = /^([^:/]+)(?::([^/]+))?(?:\/(tcp|udp))?$/.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`expected containerPort[:hostPort][/tcp|udp], got '${text}'`);
  const containerPort = portNumber(match[1], 'container port', false);
  return {
    containerPort,
    ...(match[2] !== undefined && { hostPort: portNumber(match[2], 'host port', true) }),
    ...(match[3] !== undefined && { protocol: match[3] as 'tcp' | 'udp' }),
  };
}

export function collectPort(text: string, previous: PortMapping[] | undefined): PortMapping[] {
  return [...(previous ?? []), parsePort(text)];
}

const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/**
 * Checks a label selector (`plan=pro,tier!=free`, also `==`) and returns it normalised; the server
 * checks it again, this only turns typos into a usage error before any request is made.
 */
export function parseSelector(text: string): string {
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    const match = /^([^=!]*)(==|!=|=)(.*)$/.exec(part);
    if (!match) throw new UsageError(`selector requirement '${part}' is not key=value or key!=value`);
    const key = (match[1] ?? '').trim();
    if (!LABEL_KEY.test(key)) throw new UsageError(`selector: '${key}' is not a valid label key`);
    if (!LABEL_VALUE.test(match[3] ?? ''))
      throw new UsageError(`selector: '${match[3] ?? ''}' is not a valid label value`);
  }
  return parts.join(',');
}

/** Labels given as `k=v` must be valid label keys and values. */
export function collectLabel(
  text: string,
  previous: Record<string, string> | undefined,
): Record<string, string> {
  const [key, value] = parseKeyValue(text, 'key=value');
  if (!LABEL_KEY.test(key)) throw new UsageError(`'${key}' is not a valid label key`);
  if (!LABEL_VALUE.test(value)) throw new UsageError(`'${value}' is not a valid label value`);
  return { ...previous, [key]: value };
}

/**
 * Splits a command line the way a POSIX shell would split words: whitespace separates, single
 * quotes keep everything, double quotes keep everything but `\"` and `\\`, a backslash outside
 * quotes escapes the next character. No expansion of any kind.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text.charAt(++i);
      else word += ch;
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (ch === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text.charAt(++i);
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote !== null) throw new UsageError(`unterminated ${quote} quote in command '${text}'`);
  if (word !== null) words.push(word);
  return words;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `30s`, `5m`, `1h`, `1m30s`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  const consumed = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || consumed !== trimmed) {
    throw new UsageError(`expected a duration such as 30s, 5m or 1h30m, got '${text}'`);
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] ?? 's'] ?? 1000), 0));
}

export function parsePositiveInt(text: string, what: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw new UsageError(`${what} must be a positive integer, got '${text}'`);
  return Number(text);
}

export function parseNonNegativeInt(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new UsageError(`${what} must be a non-negative integer, got '${text}'`);
  return Number(text);
}

export function parsePhase(text: string): Phase {
  return parseChoice(PHASES, 'phase')(text);
}

/** A parser accepting one of `values`. */
export function parseChoice<T extends string>(values: readonly T[], what: string): (text: string) => T {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) {
      throw new UsageError(`${what} must be one of ${values.join(', ')}, got '${text}'`);
    }
    return text as T;
  };
}

export const EXECUTION_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const CALLBACK_STATES = ['pending', 'delivered', 'dead'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function parseOutputFormat(text: string): OutputFormat {
  return parseChoice(OUTPUT_FORMATS, 'output format')(text);
}
