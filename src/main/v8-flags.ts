/**
 * V8 settings of the Lessor process, applied by the first import of every entry that runs the server
 * (`cli-entry.ts`, and the bench's `bench-server.ts`) so that they hold before any other module is
 * evaluated, and before the heap has taken any decision the setting would change.
 *
 * Allocation-site pretenuring is turned off. V8 allocates an object literal or array straight into
 * the old generation once most objects from its site have been seen to survive a young collection,
 * and a site so decided is not watched again. In Lessor some sites were decided that way (at
 * start-up and while serving), and from then on short-lived objects from them were old-generation
 * garbage that, until the next mark-compact, kept the young strings they pointed to alive through
 * scavenges: a spread tenant GET's response text was copied and promoted, 1.2 kB per GET, with about
 * one page fault per two GETs as the old generation grew (docs/decisions.md, "A GET's promoted
 * garbage: V8's allocation-site pretenuring turned off").
 *
 * An operator who names the flag (either polarity) on node's command line keeps what they named
 * (`node --allocation-site-pretenuring bin/lessor.js serve`: V8's default). NODE_OPTIONS cannot carry it.
 */
import { setFlagsFromString } from 'node:v8';

export const PRETENURING_OFF = '--no-allocation-site-pretenuring';

/** True when `args` (node's execArgv) set pretenuring either way. */
export function namesPretenuring(args: readonly string[]): boolean {
  // V8 reads `_` as `-`, and `--nofoo` as `--no-foo`.
  return args.some((arg) => /^--(no-?)?allocation-site-pretenuring$/.test(arg.replaceAll('_', '-')));
}

if (!namesPretenuring(process.execArgv)) {
  setFlagsFromString(PRETENURING_OFF);
}
