/**
 * The bearer token of this browser tab: kept in sessionStorage (gone when the tab closes, never
 * shared with other tabs, never put in a URL). An empty value means "no token" (a server without
 * tokens, loopback only).
 */
const KEY = 'lessor.token';

export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function storeToken(token: string | undefined): void {
  try {
    if (token === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives only in memory for this page
  }
}
