/** Server and token: flags > environment > config file > default. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from './args.js';
import { DEFAULT_SERVER, defaultConfigPath, parseSettings, resolveConnection } from './cli-config.js';

const dir = mkdtempSync(join(tmpdir(), 'lessor-cli-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const home = join(dir, 'home');
mkdirSync(join(home, '.config', 'lessor'), { recursive: true });
writeFileSync(join(home, '.config', 'lessor', 'cli.yaml'), 'server: http://from-home:1\ntoken: home-token\n');

test('precedence: flags, then LESSOR_URL/LESSOR_TOKEN, then the config file, then the default', () => {
  const explicit = file('explicit.yaml', 'server: http://from-file:2\ntoken: file-token\n');
  const env = { HOME: home, LESSOR_URL: 'http://from-env:3', LESSOR_TOKEN: 'env-token' };
  const cases = [
    {
      reason: 'flags win over everything',
      flags: { server: 'http://from-flag:4', token: 'flag-token', cliConfig: explicit },
      env,
      expected: { server: 'http://from-flag:4', token: 'flag-token', source: '--server' },
    },
    {
      reason: 'environment wins over the file',
      flags: { cliConfig: explicit },
      env,
      expected: { server: 'http://from-env:3', token: 'env-token', source: 'LESSOR_URL' },
    },
    {
      reason: '--cli-config wins over the default file',
      flags: { cliConfig: explicit },
      env: { HOME: home },
      expected: { server: 'http://from-file:2', token: 'file-token', source: explicit },
    },
    {
      reason: 'the default file under ~/.config/lessor',
      flags: {},
      env: { HOME: home },
      expected: {
        server: 'http://from-home:1',
        token: 'home-token',
        source: join(home, '.config', 'lessor', 'cli.yaml'),
      },
    },
    {
      reason: 'nothing configured: the default server, no token',
      flags: {},
      env: { HOME: join(dir, 'nobody') },
      expected: { server: DEFAULT_SERVER, token: undefined, source: 'default' },
    },
    {
      reason: 'empty values do not count',
      flags: { server: '' },
      env: { HOME: join(dir, 'nobody'), LESSOR_URL: ' ', LESSOR_TOKEN: '' },
      expected: { server: DEFAULT_SERVER, token: undefined, source: 'default' },
    },
    {
      reason: 'token from one source, server from another',
      flags: { server: 'https://api.example.com/' },
      env: { HOME: home },
      expected: { server: 'https://api.example.com', token: 'home-token', source: '--server' },
    },
  ];
  for (const { reason, flags, env: e, expected } of cases)
    assert.deepEqual(resolveConnection(flags, e), expected, reason);
});

test('XDG_CONFIG_HOME wins over HOME for the default file', () => {
  assert.equal(defaultConfigPath({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/u' }), '/xdg/lessor/cli.yaml');
  assert.equal(defaultConfigPath({ HOME: '/home/u' }), '/home/u/.config/lessor/cli.yaml');
  assert.equal(defaultConfigPath({}), undefined);
});

test('an explicit --cli-config must exist; a missing default file is fine', () => {
  assert.throws(() => resolveConnection({ cliConfig: join(dir, 'missing.yaml') }, {}), UsageError);
  assert.doesNotThrow(() => resolveConnection({}, { HOME: join(dir, 'nobody') }));
});

test('bad config files and server URLs are usage errors that say what is wrong', () => {
  const cases: readonly { reason: string; text: string; message: RegExp }[] = [
    { reason: 'unknown key', text: 'server: http://a\nuser: me\n', message: /unknown key 'user'/ },
    { reason: 'not a mapping', text: '- a\n- b\n', message: /must be a mapping/ },
    { reason: 'wrong type', text: 'token: 42\n', message: /token must be a string/ },
    { reason: 'broken YAML', text: 'server: [unclosed\n', message: /not valid YAML/ },
  ];
  for (const { reason, text, message } of cases)
    assert.throws(() => parseSettings(text, 'cli.yaml'), message, reason);
  assert.deepEqual(parseSettings('', 'cli.yaml'), {}, 'an empty file is empty settings');
  assert.throws(() => resolveConnection({ server: 'not a url' }, {}), /is not a URL/);
  assert.throws(() => resolveConnection({ server: 'ftp://host' }, {}), /http:\/\/ or https:\/\//);
});
