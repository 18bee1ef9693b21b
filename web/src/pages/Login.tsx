// The sign-in form.
import { useState } from "preact/hooks";
import { Api, ApiError, setToken } from "../api";
import { ErrorBox, Field } from "../components";
import { asApiError } from "../lib/hooks";

export function Login({ onSignedIn }: { onSignedIn: () => Promise<void> }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await Api.login(username, password);
      setToken(r.token);
      await onSignedIn();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Tessera</h1>
        <p class="muted">Sign in to work, review or run your projects.</p>
        <Field label="Username">
          <input name="username" autoComplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required autoFocus />
        </Field>
        <Field label="Password">
          <input name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
        </Field>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
