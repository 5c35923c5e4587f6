/**
 * Hash routing (`#/tenants/acme`): the server serves one page and every view is a client route, so
 * no server route can collide with an API path. A route is a pattern of literal segments and
 * `:params`; the first route that matches wins. Pure (unit-tested under Node).
 */
export interface RouteMatch<R> {
  readonly route: R;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

export interface RoutePattern {
  /** `/tenants/:name` */
  readonly path: string;
}

/** Splits `#/tenants/acme?phase=ready` into a path and its query. */
export function parseHash(hash: string): { path: string; query: URLSearchParams } {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    query: new URLSearchParams(q === -1 ? '' : raw.slice(q + 1)),
  };
}

export function matchRoute<R extends RoutePattern>(
  routes: readonly R[],
  hash: string,
): RouteMatch<R> | undefined {
  const { path, query } = parseHash(hash);
  const segments = split(path);
  for (const route of routes) {
    const pattern = split(route.path);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const want = pattern[i]!;
      const got = segments[i]!;
      if (want.startsWith(':')) {
        try {
          params[want.slice(1)] = decodeURIComponent(got);
        } catch {
          ok = false;
        }
      } else ok = want === got;
    }
    if (ok) return { route, params, query };
  }
  return undefined;
}

/** `href('/tenants/:name', {name: 'a b'})` → `#/tenants/a%20b`, with an optional query. */
export function href(
  path: string,
  params: Readonly<Record<string, string>> = {},
  query?: Readonly<Record<string, string | undefined>>,
): string {
  const filled = path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined && value !== '') search.set(key, value);
  const text = search.toString();
  return `#${filled}${text ? `?${text}` : ''}`;
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}
