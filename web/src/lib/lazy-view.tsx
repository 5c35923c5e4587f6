/**
 * A route view loaded on first use (its own chunk), so the first page a user opens downloads only
 * what it shows: the spec editor and its YAML library load with the tenant views, not before.
 */
import type { ComponentType, VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorBox, Loading } from '../components/common.js';
import type { ViewProps } from './route-def.js';

export function lazyView(load: () => Promise<ComponentType<ViewProps>>): (props: ViewProps) => VNode {
  let loaded: ComponentType<ViewProps> | undefined;
  function Lazy(props: ViewProps) {
    const [view, setView] = useState<{ component: ComponentType<ViewProps> } | undefined>(
      loaded && { component: loaded },
    );
    const [error, setError] = useState<unknown>(undefined);
    useEffect(() => {
      if (view) return;
      load().then(
        (component) => {
          loaded = component;
          setView({ component });
        },
        (e: unknown) => setError(e),
      );
    }, []);
    if (error) return <ErrorBox error={error} />;
    if (!view) return <Loading />;
    const View = view.component;
    return <View {...props} />;
  }
  return (props) => <Lazy {...props} />;
}
