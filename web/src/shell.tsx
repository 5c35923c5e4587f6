/**
 * The page around every view: sign-in when the server needs a token, then the navigation (only
 * what the role may see), the live-stream indicator, and the view of the current hash route.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { WhoAmI } from '../../src/api/types.js';
import { ApiError, currentToken, signIn, signOut } from './lib/api.js';
import { App, useApp, useStreamState, type AppContext } from './lib/app-context.js';
import { matchRoute } from './lib/router.js';
import { storedToken } from './lib/session.js';
import { EventStream } from './live/stream.js';
import { ROUTES } from './routes.js';
import { SignIn } from './views/sign-in.js';
import { ErrorBox, Loading, PageTitle } from './components/common.js';

type Gate =
  | { kind: 'checking' }
  | { kind: 'signin'; error?: unknown }
  | { kind: 'ready'; me: WhoAmI }
  | { kind: 'error'; error: unknown };

export function Shell() {
  const [gate, setGate] = useState<Gate>({ kind: 'checking' });
  const stream = useMemo(() => new EventStream(currentToken), []);

  const enter = async (token: string | undefined) => {
    try {
      const me = await signIn(token);
      if (me.authRequired && !me.authenticated) {
        setGate({ kind: 'signin' });
        return;
      }
      setGate({ kind: 'ready', me });
      stream.start();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401)
        setGate({ kind: 'signin', ...(token && { error }) });
      else setGate({ kind: 'error', error });
    }
  };
  useEffect(() => {
    void enter(storedToken());
    return () => stream.stop();
  }, []);

  if (gate.kind === 'checking') return <Loading what="Connecting" />;
  if (gate.kind === 'error') {
    return (
      <main id="main" class="narrow">
        <PageTitle title="Unavailable">Lessor is not answering</PageTitle>
        <ErrorBox error={gate.error} />
        <button type="button" onClick={() => void enter(storedToken())}>
          Try again
        </button>
      </main>
    );
  }
  if (gate.kind === 'signin') return <SignIn error={gate.error} onSubmit={(token) => enter(token)} />;
  const context: AppContext = {
    me: gate.me,
    stream,
    signOut: () => {
      stream.stop();
      signOut();
      setGate({ kind: 'signin' });
    },
  };
  return (
    <App.Provider value={context}>
      <Frame />
    </App.Provider>
  );
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

function Frame() {
  const hash = useHash();
  const context = useApp();
  const allowed = ROUTES.filter((route) => !route.grant || context.me.grants.includes(route.grant));
  const match = matchRoute(allowed, hash);
  const current = match?.route.path ?? '';
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          Lessor
        </a>
        <nav aria-label="Main">
          <ul>
            {allowed
              .filter((route) => route.nav)
              .map((route) => {
                const active = route.path === '/' ? current === '/' : current.startsWith(route.path);
                return (
                  <li key={route.path}>
                    <a href={`#${route.path}`} aria-current={active ? 'page' : undefined}>
                      {route.title}
                    </a>
                  </li>
                );
              })}
          </ul>
        </nav>
        <StreamIndicator />
        <div class="who">
          <span>
            {context.me.name} <span class="muted">({context.me.role})</span>
          </span>
          {context.me.authRequired && (
            <button type="button" class="link" onClick={context.signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {match ? (
          <match.route.view key={hash.split('?')[0]} params={match.params} query={match.query} />
        ) : (
          <>
            <PageTitle title="Not found">Nothing here</PageTitle>
            <p>
              No view at <code>{hash || '#/'}</code>. <a href="#/">Go to the overview</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}

const STATE_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  offline: 'reconnecting…',
  stopped: 'not live',
} as const;

function StreamIndicator() {
  const { state } = useStreamState();
  return (
    <p class={`stream stream-${state}`} role="status" aria-live="polite" data-stream={state}>
      <span aria-hidden="true" class="dot" />
      Events: {STATE_TEXT[state]}
    </p>
  );
}
