/**
 * Sign-in with an API token (admins create operators' tokens in the admin dashboard; the first
 * admin token is printed by `npm start`). The token is kept in this tab's sessionStorage only.
 */
import { useState } from 'preact/hooks';
import { problemOf } from '../api/client.ts';
import type { Problem } from '../api/types.ts';
import { described, Field, ProblemView } from '../components/common.tsx';
import { signedOutBecause, signIn } from '../state/session.ts';

export function SignInPage() {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await signIn(value);
      setValue('');
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };
  const ended = signedOutBecause.value;
  return (
    <main id="main" class="sign-in">
      <form class="card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Fanout</h1>
        <p class="muted">Use an API token: the admin token `npm start` printed, or an operator token an admin created for you.</p>
        {ended ? <ProblemView problem={ended} title="You were signed out" /> : null}
        <Field id="token" label="API token" error={problem?.detail}>
          <input id="token" type="password" autocomplete="current-password" spellcheck={false} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} {...described('token', problem?.detail)} />
        </Field>
        {problem?.hint ? <p class="problem-hint">{problem.hint}</p> : null}
        <div class="actions">
          <button type="submit" class="btn btn-primary" disabled={busy || value.trim() === ''}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
        </div>
        <p class="muted small">The token stays in this browser tab only and is forgotten when the tab closes.</p>
      </form>
    </main>
  );
}
