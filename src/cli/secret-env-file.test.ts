import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from './args.js';
import { parseSecretEnvFile } from './secret-env-file.js';

test('parseSecretEnvFile reads KEY=VALUE lines', () => {
  const cases: readonly { reason: string; text: string; expected: Record<string, string> }[] = [
    { reason: 'plain lines', text: 'A=1\nB=two words\n', expected: { A: '1', B: 'two words' } },
    {
      reason: 'blank lines, comments, CRLF, export and spaces around = are allowed',
      text: '# db\r\n\r\nexport DB_PASSWORD = hunter2\r\n  API_KEY=k\r\n',
      expected: { DB_PASSWORD: 'hunter2', API_KEY: 'k' },
    },
    {
      reason: 'the rest of the line is the value: = and # belong to it',
      text: 'URL=postgres://u:p@h/db?x=1\nPASS=abc #def\n',
      expected: { URL: 'postgres://u:p@h/db?x=1', PASS: 'abc #def' },
    },
    {
      reason: 'single quotes keep the text as is, double quotes know \\n \\t \\" \\\\',
      text: `S=' spaced \\n '\nD="line1\\nline2\\t\\"q\\" \\\\ \\x"\nE=""\n`,
      expected: { S: ' spaced \\n ', D: 'line1\nline2\t"q" \\ \\x', E: '' },
    },
  ];
  for (const c of cases) assert.deepEqual(parseSecretEnvFile(c.text, 'secrets.env'), c.expected, c.reason);
});

test('parseSecretEnvFile errors name the line, never its content', () => {
  const cases: readonly { reason: string; text: string; message: string }[] = [
    { reason: 'no =', text: 'A=1\nhunter2\n', message: 'secrets.env line 2: expected KEY=VALUE' },
    { reason: 'a bad key', text: '1A=hunter2\n', message: 'secrets.env line 1: expected KEY=VALUE' },
    { reason: 'a key twice', text: 'A=hunter2\nA=hunter3\n', message: 'secrets.env line 2: A is set twice' },
    { reason: 'an open quote', text: 'A="hunter2\n', message: 'secrets.env line 1: unterminated "' },
    { reason: 'nothing in it', text: '# only a comment\n\n', message: 'secrets.env holds no KEY=VALUE line' },
  ];
  for (const c of cases) {
    assert.throws(
      () => parseSecretEnvFile(c.text, 'secrets.env'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, c.reason);
        assert.equal(error.message, c.message, c.reason);
        assert.ok(!error.message.includes('hunter'), c.reason);
        return true;
      },
    );
  }
});
