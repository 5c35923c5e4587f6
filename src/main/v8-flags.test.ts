import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { namesPretenuring } from './v8-flags.js';

const FLAGS_MODULE = new URL('./v8-flags.ts', import.meta.url).href;

/**
 * A child that imports v8-flags.ts first, keeps 800 000 objects from one literal alive across young
 * collections (what makes V8 pretenure the literal's site), then counts how many of 100 fresh ones
 * are young. Only optimised code allocates a pretenured site in the old generation, and when V8
 * optimises on its own depends on timing (under load the function was sometimes never optimised
 * and the check with V8's default failed), so the child has it optimised once the feedback is in.
 * V8 decides to pretenure a site only at a scavenge of a young generation grown to its maximum,
 * and when it grows there depends on the heap's history (loading tsx first left it short of that
 * in 4 runs of 6), so the child's young generation starts at its maximum.
 */
async function freshObjectsYoung(nodeFlags: readonly string[]): Promise<number> {
  const script = `
    await import(${JSON.stringify(FLAGS_MODULE)});
    const make = (i) => ({ i, s: 'x' });
    %PrepareFunctionForOptimization(make);
    const keep = [];
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20000; i++) keep.push(make(i));
      for (let i = 0; i < 2000; i++) new Array(1000);
    }
    %OptimizeFunctionOnNextCall(make);
    make(0);
    let young = 0;
    for (let i = 0; i < 100; i++) if (%InYoungGeneration(make(i))) young++;
    console.log(young);`;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    '--allow-natives-syntax',
    '--min-semi-space-size=16',
    '--max-semi-space-size=16',
    ...nodeFlags,
    '--input-type=module',
    '-e',
    script,
  ]);
  return Number(stdout.trim());
}

test('the server process allocates a long-lived literal young all the same (pretenuring off)', async () => {
  assert.equal(await freshObjectsYoung([]), 100);
});

test('pretenuring named on the command line is left as named', async () => {
  // The same workload with V8's default: the site is pretenured, so the check above means something.
  assert.equal(await freshObjectsYoung(['--allocation-site-pretenuring']), 0);
  assert.equal(await freshObjectsYoung(['--no-allocation-site-pretenuring']), 100);
});

test('namesPretenuring recognises the flag in either polarity and spelling', () => {
  assert.equal(namesPretenuring(['--allocation-site-pretenuring']), true);
  assert.equal(namesPretenuring(['--expose-gc', '--no-allocation-site-pretenuring']), true);
  assert.equal(namesPretenuring(['--no_allocation_site_pretenuring']), true);
  assert.equal(namesPretenuring(['--noallocation-site-pretenuring']), true);
  assert.equal(namesPretenuring([]), false);
  assert.equal(namesPretenuring(['--expose-gc', '--max-semi-space-size=32']), false);
  assert.equal(namesPretenuring(['--allocation-site-pretenuring-extra']), false);
});
