/**
 * `--secret-env-file FILE` (`-` for standard input): secret environment variables from a dotenv-style
 * file, so their values stay out of `ps` and shell history. One `KEY=VALUE` per line; blank lines and
 * lines starting with `#` are skipped; `export KEY=VALUE` is accepted. The value is the rest of the
 * line with surrounding spaces removed (a `#` in it is part of the value); quote it ('…' as is, "…"
 * with \n, \t, \", \\ escapes) to keep spaces. Errors name the line, never its content.
 */
import { UsageError } from './args.js';

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

export function parseSecretEnvFile(text: string, source: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${source} line ${index + 1}`;
    const match = LINE.exec(line);
    if (!match) throw new UsageError(`${where}: expected KEY=VALUE`);
    const [, key = '', value = ''] = match;
    if (seen.has(key)) throw new UsageError(`${where}: ${key} is set twice`);
    seen.add(key);
    entries[key] = unquote(value.trim(), where);
  });
  if (seen.size === 0) throw new UsageError(`${source} holds no KEY=VALUE line`);
  return entries;
}

function unquote(value: string, where: string): string {
  const quote = value[0];
  if (quote !== '"' && quote !== "'") return value;
  if (value.length < 2 || !value.endsWith(quote)) throw new UsageError(`${where}: unterminated ${quote}`);
  const body = value.slice(1, -1);
  if (quote === "'") return body;
  return body.replace(/\\(.)/g, (escape, char: string) => ESCAPES[char] ?? escape);
}
