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

export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((prev) => ({ ...prev, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) =>
        mine === generation.current && setState((prev) => ({ ...prev, error, loading: false })),
    );
  }, deps);
  // A layout effect: the request leaves as soon as the view is in the DOM, not a frame later.
  useLayoutEffect(() => {
    run();
    return () => {
      generation.current++;
    };
  }, [run]);
  const setData = useCallback(
    (update: (data: T) => T) =>
      setState((prev) => (prev.data === undefined ? prev : { ...prev, data: update(prev.data) })),
    [],
  );
  return { ...state, reload: run, setData };
}
