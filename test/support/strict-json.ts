/**
 * A strict JSON parser for checking log lines: RFC 8259 grammar, and an object that names a key
 * twice is an error. `JSON.parse` silently keeps the last value of a duplicated key, so it cannot
 * tell `{"provider":"docker","provider":"docker"}` from a valid line.
 */

export class StrictJsonError extends Error {}

export function parseStrictJson(text: string): unknown {
  const parser = new Parser(text);
  parser.space();
  const value = parser.value();
  parser.space();
  if (!parser.done()) parser.fail('unexpected text after the value');
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Control characters (U+0000–U+001F) must be escaped inside a JSON string.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    return this.at === this.text.length;
  }

  fail(message: string): never {
    throw new StrictJsonError(`${message} at offset ${this.at}: ${this.text.slice(this.at, this.at + 40)}`);
  }

  space(): void {
    this.match(SPACE);
  }

  value(): unknown {
    const char = this.text[this.at];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return this.string();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    const number = this.match(NUMBER);
    if (number === undefined) this.fail('expected a JSON value');
    return Number(number);
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const keys = new Set<string>();
    this.at++;
    this.space();
    if (this.eat('}')) return result;
    do {
      this.space();
      if (this.text[this.at] !== '"') this.fail('expected a key');
      const key = this.string();
      if (keys.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}`);
      keys.add(key);
      this.space();
      if (!this.eat(':')) this.fail('expected ":"');
      this.space();
      Object.defineProperty(result, key, { value: this.value(), enumerable: true, writable: true });
      this.space();
    } while (this.eat(','));
    if (!this.eat('}')) this.fail('expected "," or "}"');
    return result;
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.at++;
    this.space();
    if (this.eat(']')) return result;
    do {
      this.space();
      result.push(this.value());
      this.space();
    } while (this.eat(','));
    if (!this.eat(']')) this.fail('expected "," or "]"');
    return result;
  }

  private string(): string {
    const literal = this.match(STRING);
    if (literal === undefined) this.fail('malformed string');
    return JSON.parse(literal) as string;
  }

  private eat(char: string): boolean {
    if (this.text[this.at] !== char) return false;
    this.at++;
    return true;
  }

  private match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.at;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.at += found[0].length;
    return found[0];
  }
}
