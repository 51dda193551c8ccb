/** API tokens: create (the value shown once, with a copy button), list, revoke. */
import { useEffect, useState } from 'preact/hooks';
import { fieldErrors, problemOf } from '../../api/client.ts';
import type { NewToken, Problem, Role, Token } from '../../api/types.ts';
import { ConfirmDialog, described, Field, OneTimeSecret, ProblemView } from '../../components/common.tsx';
import { api } from '../../state/session.ts';

export function TokensPage() {
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('operator');
  const [created, setCreated] = useState<NewToken | null>(null);
  const [formProblem, setFormProblem] = useState<Problem | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);

  const load = async (): Promise<void> => {
    try {
      setTokens((await api.get<{ tokens: Token[] }>('/api/admin/tokens')).tokens);
      setProblem(null);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);

  const create = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setFormProblem(null);
    try {
      const t = await api.post<NewToken>('/api/admin/tokens', { name, role });
      setCreated(t);
      setName('');
      await load();
    } catch (err) {
      setFormProblem(problemOf(err));
    }
  };
  const revoke = async (t: Token): Promise<void> => {
    setRevoking(null);
    try {
      await api.del(`/api/admin/tokens/${encodeURIComponent(t.tokenId)}`);
      await load();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const errs = fieldErrors(formProblem, ['name', 'role']);

  return (
    <>
      <form class="card" onSubmit={(e) => void create(e)} noValidate aria-labelledby="new-token-title">
        <h2 id="new-token-title">New token</h2>
        <div class="form-grid">
          <Field id="token-name" label="Name (who or what uses it)" error={errs.name}>
            <input id="token-name" type="text" autocomplete="off" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} {...described('token-name', errs.name)} />
          </Field>
          <Field id="token-role" label="Role" error={errs.role}>
            <select id="token-role" value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)} {...described('token-role', errs.role)}>
              <option value="operator">operator: destinations, presets and platforms to read</option>
              <option value="admin">admin: everything</option>
              <option value="metrics">metrics: only GET /metrics (a Prometheus scraper)</option>
            </select>
          </Field>
        </div>
        {errs[''] || (formProblem && !formProblem.errors) ? <ProblemView problem={{ ...formProblem!, detail: errs[''] ?? formProblem!.detail }} /> : null}
        <div class="actions">
          <button type="submit" class="btn btn-primary">
            Create token
          </button>
        </div>
        {created ? (
          <OneTimeSecret testId="new-token" value={created.token} copyLabel="Copy the new token" onDone={() => setCreated(null)}>
            Token for <strong>{created.name}</strong> ({created.role}). It is shown only now: copy it and give it to its user.
          </OneTimeSecret>
        ) : null}
      </form>
      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">Tokens</h2>
        <ProblemView problem={problem} />
        {!tokens ? (
          <p role="status">Loading…</p>
        ) : tokens.length === 0 ? (
          <p class="empty">No tokens.</p>
        ) : (
          <ul class="rows">
            {tokens.map((t) => (
              <li key={t.tokenId} class="row">
                <div class="row-main">
                  <strong>{t.name}</strong>
                  <span class="muted">
                    {t.role} · {t.tokenId} · created {new Date(t.createdAt).toLocaleString()}
                  </span>
                </div>
                <button type="button" class="btn btn-danger-outline btn-small" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                  Revoke
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <ConfirmDialog open={revoking !== null} title={`Revoke “${revoking?.name ?? ''}”?`} confirmLabel="Revoke" danger onCancel={() => setRevoking(null)} onConfirm={() => revoking && void revoke(revoking)}>
        <p>Whoever uses this token loses access at once. If it is the token you signed in with, you are signed out.</p>
      </ConfirmDialog>
    </>
  );
}
