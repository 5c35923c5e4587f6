/** The data directory is made private: created 0700, tightened when looser, shared ones left alone. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { recordingLogger } from '../../compute/testing/manager-fixtures.js';
import { secureDataDir } from './data-dir.js';

const root = mkdtempSync(join(tmpdir(), 'lessor-data-dir-'));
after(() => rmSync(root, { recursive: true, force: true }));
const modeOf = (path: string): number => statSync(path).mode & 0o7777;

const cases = [
  { reason: 'a missing directory is created 0700', before: undefined, after: 0o700, warned: false },
  {
    reason: 'a 0755 directory is tightened to 0700, with a warning',
    before: 0o755,
    after: 0o700,
    warned: true,
  },
  { reason: 'a 0700 directory is left as it is, silently', before: 0o700, after: 0o700, warned: false },
  {
    reason: 'a shared sticky directory is left alone, with a warning',
    before: 0o1777,
    after: 0o1777,
    warned: true,
  },
];

for (const [index, { reason, before, after: expected, warned }] of cases.entries()) {
  test(reason, () => {
    const dir = join(root, `case-${index}`, 'data');
    if (before !== undefined) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, before);
    }
    const { logger, records } = recordingLogger();
    secureDataDir(dir, logger);
    assert.equal(modeOf(dir), expected);
    assert.equal(
      records.some((r) => r.level === 'warn'),
      warned,
      JSON.stringify(records),
    );
  });
}
