#!/usr/bin/env node
// The `lessor` command: the compiled program of src/main/cli-entry.ts (run `npm run build` first).
import('../dist/main/cli-entry.js').catch((error) => {
  if (
    error &&
    error.code === 'ERR_MODULE_NOT_FOUND' &&
    String(error.message).includes('dist/main/cli-entry.js')
  ) {
    process.stderr.write('lessor: dist/ is missing; run `npm run build` first\n');
  } else {
    process.stderr.write(`lessor: ${error && error.stack ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});
