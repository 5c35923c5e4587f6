/**
 * The web dashboard: the static files of its Vite build (`web/`, built into `web/dist` by
 * `npm run build:web`, which `npm install` runs) served at `/`, `/assets/*` and `/favicon.svg`.
 * Open routes (the files hold no data: the dashboard calls the API with the user's token) with a
 * strict Content-Security-Policy: scripts, styles and connections from this origin only, nothing
 * inline, no framing. Files are read once, on the first request that finds the build, and looked up
 * by exact name (no path from the request reaches the file system). Without a build `/` answers 503
 * with a page saying how to build it; the API is unaffected either way.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiApp } from './api-deps.js';
import { httpError } from './problem.js';

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  /** Content-hashed names under assets/ never change: cached for a year. */
  readonly immutable: boolean;
}

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lessor dashboard not built</title></head>
<body><h1>The Lessor dashboard is not built</h1>
<p>Its files were not found. <code>npm install</code> builds them; to build them alone, run
<code>npm run build:web</code> and reload this page. The API under <code>/v1</code> and its
documentation at <a href="/docs">/docs</a> work without them.</p></body></html>
`;

/** Every file under `dir` by its URL path (`/index.html`, `/assets/index-3f2a.js`); empty when absent. */
export function loadBuild(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && TYPES[extname(entry.name)] !== undefined) {
        const body = readFileSync(path);
        const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
        files.set(urlPath, {
          body,
          type: TYPES[extname(entry.name)]!,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
          immutable: urlPath.startsWith('/assets/'),
        });
      }
    }
  };
  try {
    if (statSync(dir).isDirectory()) walk(dir);
  } catch {
    return new Map<string, StaticFile>();
  }
  return files.has('/index.html') ? files : new Map<string, StaticFile>();
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });
}

export function registerDashboardRoutes(app: ApiApp, dir: string): void {
  let files = new Map<string, StaticFile>();
  const lookup = (path: string): StaticFile | undefined => {
    if (files.size === 0) files = loadBuild(dir);
    return files.get(path);
  };
  const send = (request: FastifyRequest, reply: FastifyReply, path: string) => {
    const file = lookup(path);
    if (file === undefined) {
      if (path === '/index.html')
        return securityHeaders(reply).code(503).type(TYPES['.html']!).send(MISSING_BUILD);
      throw httpError('NOT_FOUND', `no dashboard file ${path}`);
    }
    securityHeaders(reply)
      .type(file.type)
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  };
  const options = { schema: { hide: true }, config: { access: 'open' as const } };
  app.get('/', options, (request, reply) => send(request, reply, '/index.html'));
  app.get('/favicon.svg', options, (request, reply) => send(request, reply, '/favicon.svg'));
  app.get<{ Params: { '*': string } }>('/assets/*', options, (request, reply) =>
    send(request, reply, `/assets/${request.params['*']}`),
  );
}
