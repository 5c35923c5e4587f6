/** Server and token: flags > environment > config file > default. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from './args.js';
import {
  cleartextTokenWarning,
  DEFAULT_SERVER,
  defaultConfigPath,
  parseSettings,
  resolveConnection,
} from './cli-config.js';

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

test('--token-file and LESSOR_TOKEN_FILE: the file holds the token, at the level of --token / LESSOR_TOKEN', () => {
  const tokenFile = file('token', '  file-held-token\n');
  const nobody = { HOME: join(dir, 'nobody') };
  const fromHome = { HOME: home };
  const withTokenFile = file('with-token-file.yaml', `server: http://from-file:2\ntokenFile: ${tokenFile}\n`);
  const cases: readonly {
    reason: string;
    flags: { token?: string; tokenFile?: string; cliConfig?: string };
    env: Record<string, string>;
    token: string | undefined;
  }[] = [
    { reason: '--token-file, trimmed', flags: { tokenFile }, env: nobody, token: 'file-held-token' },
    {
      reason: 'LESSOR_TOKEN_FILE',
      flags: {},
      env: { ...nobody, LESSOR_TOKEN_FILE: tokenFile },
      token: 'file-held-token',
    },
    {
      reason: '--token-file wins over LESSOR_TOKEN',
      flags: { tokenFile },
      env: { ...nobody, LESSOR_TOKEN: 'env-token' },
      token: 'file-held-token',
    },
    {
      reason: 'LESSOR_TOKEN_FILE wins over the config file',
      flags: {},
      env: { ...fromHome, LESSOR_TOKEN_FILE: tokenFile },
      token: 'file-held-token',
    },
    {
      reason: 'tokenFile in the config file',
      flags: { cliConfig: withTokenFile },
      env: nobody,
      token: 'file-held-token',
    },
  ];
  for (const c of cases) assert.equal(resolveConnection(c.flags, c.env).token, c.token, c.reason);
});

test('a token file that cannot be used is a usage error naming the file and where it was given', () => {
  const empty = file('empty-token', '\n \n');
  const cases: readonly {
    reason: string;
    flags: { token?: string; tokenFile?: string };
    env: Record<string, string>;
    message: RegExp;
  }[] = [
    {
      reason: 'missing',
      flags: { tokenFile: join(dir, 'no-such-token') },
      env: {},
      message: /cannot read the token file .*no-such-token \(from --token-file\): ENOENT/,
    },
    {
      reason: 'empty',
      flags: { tokenFile: empty },
      env: {},
      message: /token file .*empty-token \(from --token-file\) is empty/,
    },
    {
      reason: 'both --token and --token-file',
      flags: { token: 't', tokenFile: empty },
      env: {},
      message: /give --token or --token-file, not both/,
    },
    {
      reason: 'both variables',
      flags: {},
      env: { LESSOR_TOKEN: 't', LESSOR_TOKEN_FILE: empty },
      message: /give LESSOR_TOKEN or LESSOR_TOKEN_FILE, not both/,
    },
  ];
  for (const c of cases) {
    assert.throws(
      () => resolveConnection(c.flags, { HOME: join(dir, 'nobody'), ...c.env }),
      (error: unknown) => {
        assert.ok(error instanceof UsageError, c.reason);
        assert.match(error.message, c.message, c.reason);
        return true;
      },
    );
  }
});

test('cleartextTokenWarning: a token over plain http:// to another machine, and only then', () => {
  const cases: readonly { reason: string; server: string; token?: string; warns: boolean }[] = [
    {
      reason: 'http to a remote host with a token',
      server: 'http://lessor.example.com:8080',
      token: 't',
      warns: true,
    },
    {
      reason: 'http to a remote address with a token',
      server: 'http://10.1.2.3:8080',
      token: 't',
      warns: true,
    },
    { reason: 'https', server: 'https://lessor.example.com', token: 't', warns: false },
    { reason: 'loopback http', server: 'http://127.0.0.1:8080', token: 't', warns: false },
    { reason: 'localhost', server: 'http://localhost:8080', token: 't', warns: false },
    { reason: 'IPv6 loopback', server: 'http://[::1]:8080', token: 't', warns: false },
    { reason: 'no token: nothing to leak', server: 'http://lessor.example.com:8080', warns: false },
  ];
  for (const c of cases) {
    const warning = cleartextTokenWarning({ server: c.server, token: c.token, source: '--server' });
    assert.equal(warning !== undefined, c.warns, c.reason);
  }
  assert.match(
    cleartextTokenWarning({ server: 'http://lessor.example.com:8080', token: 't', source: 'x' }) ?? '',
    /^warning: sending the bearer token to lessor\.example\.com:8080 over plain http:\/\/.*use https:\/\//,
  );
});
