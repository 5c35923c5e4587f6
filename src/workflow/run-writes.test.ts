/**
 * Who writes run rows: every engine creates and changes them through `RunRecords` (which tells the
 * observer), and in the embedded engine leases are taken and renewed by `RunWriter` alone — no
 * other engine file calls a run-row write of the store.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WORKFLOW = fileURLToPath(new URL('.', import.meta.url));

/** Run-row writes of the store, and the one file allowed to call each. */
const WRITES: Readonly<Record<string, string>> = {
  createOrGet: 'run-records.ts',
  update: 'run-records.ts',
  recordEnd: 'run-records.ts',
  claimDue: 'embedded/run-writer.ts',
  renewLease: 'embedded/run-writer.ts',
};

function productionFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : productionFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

test('run rows are written only through RunRecords, leases only through RunWriter', () => {
  const misplaced: string[] = [];
  for (const path of productionFiles(WORKFLOW)) {
    const file = relative(WORKFLOW, path);
    const source = readFileSync(path, 'utf8');
    for (const [write, owner] of Object.entries(WRITES)) {
      if (file !== owner && new RegExp(`\\.${write}\\(`).test(source)) misplaced.push(`${file}: ${write}`);
    }
  }
  assert.deepEqual(misplaced, []);
});
