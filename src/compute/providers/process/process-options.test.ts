import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ValidationError } from '../../../domain/errors.js';
import { parseProcessOptions } from './process-options.js';

const asRoot = () => 0;
const asUser = () => 1000;

describe('parseProcessOptions', () => {
  const valid = [
    { reason: 'nothing set: allowRemote is off, no runAs', options: {}, expected: { allowRemote: false } },
    {
      reason: 'numbers and booleans from the environment arrive as text',
      options: { stopGraceMs: '500', allowRemote: true, runAs: { uid: '65534', gid: '65534' } },
      expected: { stopGraceMs: 500, allowRemote: true, runAs: { uid: 65534, gid: 65534 } },
    },
  ];
  for (const { reason, options, expected } of valid) {
    test(reason, () => assert.deepEqual(parseProcessOptions(options, asRoot), expected));
  }

  const invalid = [
    { reason: 'allowRemote must be a boolean', options: { allowRemote: 'yes' }, paths: ['allowRemote'] },
    { reason: 'negative grace', options: { stopGraceMs: -1 }, paths: ['stopGraceMs'] },
    {
      reason: 'runAs root is no switch at all',
      options: { runAs: { uid: 0, gid: 0 } },
      paths: ['runAs.uid', 'runAs.gid'],
    },
    { reason: 'runAs needs both ids', options: { runAs: { uid: 1000 } }, paths: ['runAs.gid'] },
    {
      reason: 'runAs takes only uid and gid',
      options: { runAs: { uid: 1, gid: 1, groups: [0] } },
      paths: ['runAs.groups'],
    },
    { reason: 'runAs must be a mapping', options: { runAs: 'nobody' }, paths: ['runAs'] },
  ];
  for (const { reason, options, paths } of invalid) {
    test(reason, () => {
      assert.throws(
        () => parseProcessOptions(options, asRoot),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.deepEqual(
            error.problems.map((p) => p.path),
            paths,
          );
          return true;
        },
      );
    });
  }

  test('runAs is refused when Lessor does not run as root (it could not switch users)', () => {
    assert.throws(
      () => parseProcessOptions({ runAs: { uid: 65534, gid: 65534 } }, asUser),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.equal(error.problems[0]?.path, 'runAs');
        assert.match(error.problems[0]?.message ?? '', /needs Lessor to run as root/);
        return true;
      },
    );
  });
});
