/** What every view may use: the caller (role and grants) and the shared live event stream. */
import { createContext } from 'preact';
import { useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { TenantEvent, WhoAmI } from '../../../src/api/types.js';
import type { EventStream, StreamState } from '../live/stream.js';

export type Grant = WhoAmI['grants'][number];

export interface AppContext {
  readonly me: WhoAmI;
  readonly stream: EventStream;
  readonly signOut: () => void;
}

export const App = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const app = useContext(App);
  if (!app) throw new Error('useApp outside <App.Provider>');
  return app;
}

/** Whether the caller's role may do `grant` (the server enforces it anyway). */
export function useCan(grant: Grant): boolean {
  return useApp().me.grants.includes(grant);
}

/**
 * Calls `handler` with every live event while the view is mounted (the latest handler, no
 * resubscribe). Subscribed in a layout effect, in the same commit as the view's first requests
 * (`useAsync`): no event can arrive between a view's read and its subscription.
 */
export function useLiveEvents(handler: (event: TenantEvent) => void): void {
  const { stream } = useApp();
  const latest = useRef(handler);
  latest.current = handler;
  useLayoutEffect(() => stream.subscribe((event) => latest.current(event)), [stream]);
}

/**
 * The stream's state, and a counter that grows each time the stream becomes live while the view
 * is mounted — at first connect and on every reconnect. Views re-read their data on it: an event
 * written while no stream was open is then not missed.
 */
export function useStreamState(): { state: StreamState; reconnects: number } {
  const { stream } = useApp();
  const [value, setValue] = useState({ state: stream.state, reconnects: 0 });
  useEffect(
    () =>
      stream.onState((state) =>
        setValue((prev) => ({
          state,
          reconnects: prev.reconnects + (state === 'live' && prev.state !== 'live' ? 1 : 0),
        })),
      ),
    [stream],
  );
  return value;
}
