#!/usr/bin/env node
// Builds the dashboard (web/ → web/dist, which `lessor serve` serves at /).
//
//   node scripts/build-web.mjs                  build; fails when Vite is missing
//   node scripts/build-web.mjs --if-available   what `npm install` runs (the `prepare` script): an
//                                               install without dev dependencies has no Vite, so it
//                                               skips with a note instead of failing the install
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const optional = process.argv.includes('--if-available');

let vite;
try {
  vite = await import('vite');
} catch (error) {
  if (!optional) throw error;
  console.error(
    'build-web: Vite is not installed (dev dependencies omitted); the dashboard is not built, and / ' +
      'will say so. Build it where dev dependencies are installed: npm run build:web',
  );
  process.exit(0);
}

await vite.build({
  root: `${root}web`,
  configFile: `${root}web/vite.config.ts`,
  logLevel: 'warn',
});
