/** Sign-in: a bearer token, checked with `GET /v1/whoami`, kept in this tab's sessionStorage only. */
import { useState } from 'preact/hooks';
import { ErrorBox, PageTitle } from '../components/common.js';

export function SignIn({ error, onSubmit }: { error?: unknown; onSubmit: (token: string) => Promise<void> }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="narrow signin">
      <PageTitle title="Sign in">Sign in to Lessor</PageTitle>
      <p>
        This server requires a bearer token. It is kept for this browser tab only and sent in the
        Authorization header.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setBusy(true);
          void onSubmit(token.trim()).finally(() => setBusy(false));
        }}
      >
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
    </main>
  );
}
