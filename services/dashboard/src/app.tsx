/**
 * The app shell: sign-in gate, header with the navigation and the live connection's state (with
 * the offline banner), and the two dashboards. The admin dashboard is loaded only when an admin
 * opens it; an operator who opens /admin is told it needs an admin token (the API refuses those
 * routes to operators anyway).
 */
import { useEffect, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';
import { connection, now, startLive, stopLive } from './state/live.ts';
import { role, signOut, token, probeRole } from './state/session.ts';
import { path } from './router.ts';
import { SignInPage } from './pages/sign-in.tsx';
import { StreamingPage } from './pages/streaming/streaming-page.tsx';
import { ApiError } from './api/client.ts';

function ConnectionBadge() {
  const c = connection.value;
  const t = now.value;
  const text =
    c.kind === 'open' ? 'Live' : c.kind === 'connecting' ? 'Connecting…' : c.kind === 'offline' ? `Offline, retrying in ${Math.max(0, Math.ceil((c.retryAt - t) / 1000))} s` : c.kind === 'unavailable' ? 'No live updates' : 'Signed out';
  return (
    <span class={`conn conn-${c.kind}`} data-testid="connection" role="status">
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function OfflineBanner() {
  const c = connection.value;
  if (c.kind === 'offline')
    return (
      <div class="banner banner-warn" role="alert" data-testid="offline">
        Fanout cannot be reached ({c.reason}). What you see may be out of date; the page reconnects by itself and catches up.
      </div>
    );
  if (c.kind === 'unavailable')
    return (
      <div class="banner banner-warn" role="alert">
        This API does not stream live events ({c.reason}). Reload the page to see changes.
      </div>
    );
  return null;
}

function AdminGate() {
  const [Page, setPage] = useState<FunctionComponent | null>(null);
  const isAdmin = role.value === 'admin';
  useEffect(() => {
    if (isAdmin && !Page) void import('./pages/admin/admin-page.tsx').then((m) => setPage(() => m.AdminPage));
  }, [isAdmin]);
  if (!isAdmin)
    return (
      <section class="card" aria-labelledby="needs-admin">
        <h1 id="needs-admin">This page needs an admin token</h1>
        <p>You are signed in with an operator token. The admin dashboard (infrastructure, platforms and presets, API tokens) is for administrators; ask one, or sign in with an admin token.</p>
        <p>
          <a href="/">Back to the streaming dashboard</a>
        </p>
      </section>
    );
  return Page ? <Page /> : <p role="status">Loading the admin dashboard…</p>;
}

export function App() {
  const signedIn = token.value !== null;
  const [checking, setChecking] = useState(signedIn && role.value === null);
  useEffect(() => {
    if (!signedIn) {
      stopLive();
      return;
    }
    startLive();
    if (role.value === null) {
      // A reload: the token is in sessionStorage, its role is asked again.
      void probeRole(token.value!)
        .then(
          (r) => (role.value = r),
          (err: unknown) => signOut(err instanceof ApiError ? err.problem : null),
        )
        .finally(() => setChecking(false));
    }
  }, [signedIn]);
  if (!signedIn) return <SignInPage />;
  const p = path.value;
  const onAdmin = p.startsWith('/admin');
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Fanout</span>
        <nav aria-label="Dashboards">
          <a href="/" aria-current={!onAdmin ? 'page' : undefined}>
            Streaming
          </a>
          {role.value === 'admin' ? (
            <a href="/admin" aria-current={onAdmin ? 'page' : undefined}>
              Admin
            </a>
          ) : null}
        </nav>
        <div class="top-right">
          <ConnectionBadge />
          <span class="role" data-testid="role">
            {role.value ?? '…'}
          </span>
          <button type="button" class="btn btn-small" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <OfflineBanner />
      <main id="main">{checking ? <p role="status">Checking the token…</p> : onAdmin ? <AdminGate /> : <StreamingPage />}</main>
    </>
  );
}
