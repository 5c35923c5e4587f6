/** Loads data for a view: re-runs when `deps` change; a later load wins over an earlier one. */
import { useCallback, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Async<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Loads again, keeping the current data on screen meanwhile. */
  readonly reload: () => void;
  readonly setData: (update: (data: T) => T) => void;
}

export interface AsyncOptions {
  /**
   * `setData` updates made while a load is in flight are applied to its result as well, in order.
   * A live event can arrive after the server read the data but before its answer; without this,
   * the answer would overwrite the event's update and the view would miss it until the next load.
   * Only for updates that set a state (applying one to data that already shows it changes
   * nothing, as `applyToRows` does), never for ones that count.
   */
  readonly replayUpdates?: boolean;
}

export function useAsync<T>(
  load: () => Promise<T>,
  deps: readonly unknown[],
  options: AsyncOptions = {},
): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  /** Updates made since the load in flight began (with `replayUpdates`); null when none is. */
  const updatesInFlight = useRef<((data: T) => T)[] | null>(null);
  const run = useCallback(() => {
    const mine = ++generation.current;
    updatesInFlight.current = options.replayUpdates ? [] : null;
    setState((prev) => ({ ...prev, loading: true }));
    load().then(
      (loaded) => {
        if (mine !== generation.current) return;
        const data = (updatesInFlight.current ?? []).reduce((value, update) => update(value), loaded);
        updatesInFlight.current = null;
        setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        updatesInFlight.current = null;
        setState((prev) => ({ ...prev, error, loading: false }));
      },
    );
  }, deps);
  // A layout effect: the request leaves as soon as the view is in the DOM, not a frame later.
  useLayoutEffect(() => {
    run();
    return () => {
      generation.current++;
    };
  }, [run]);
  const setData = useCallback((update: (data: T) => T) => {
    updatesInFlight.current?.push(update);
    setState((prev) => (prev.data === undefined ? prev : { ...prev, data: update(prev.data) }));
  }, []);
  return { ...state, reload: run, setData };
}
