/**
 * `--wait`: follows a destination until it reaches what was asked (running, idle, gone), showing
 * progress on stderr: one line per status change, or one line rewritten every second on a
 * terminal. It listens to the live event stream and reads the destination once at every
 * (re)connection, so a change made before the stream opened is not missed; where the runtime
 * cannot stream (501 SSE_UNAVAILABLE: API Gateway on AWS) it reads the destination every 2 s.
 * Ends with the destination, or an error: its `lastError` (exit 1), a timeout (exit 1), Ctrl+C (130).
 */
import type { Api } from './client.ts';
import { CliError, cliError } from './errors.ts';
import { followEvents } from './event-stream.ts';
import { duration, type Io } from './output.ts';
import type { Destination, LastError } from './types.ts';

export type WaitTarget = 'running' | 'idle' | 'gone';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface Seen {
  status: Destination['status'] | 'gone';
  desired: Destination['desired'];
  lastError: LastError | null;
}

/** What a status means for the wait: done, failed (with why), or keep waiting. */
export function judge(target: WaitTarget, s: Seen): { done: true } | { failed: string; lastError: LastError | null } | null {
  if (target === 'gone') return s.status === 'gone' ? { done: true } : s.status === 'error' ? { failed: 'is in error', lastError: s.lastError } : null;
  if (s.status === 'gone') return { failed: 'was removed', lastError: null };
  if (s.status === target) return { done: true };
  if (s.status === 'error') return { failed: 'is in error', lastError: s.lastError };
  // Someone asked for the opposite in the meantime (another terminal, the dashboard).
  if (target === 'running' && s.desired === 'stopped' && (s.status === 'idle' || s.status === 'stopping')) return { failed: 'was stopped before it ran', lastError: null };
  if (target === 'idle' && s.desired === 'running' && (s.status === 'starting' || s.status === 'running')) return { failed: 'was started again', lastError: null };
  return null;
}

export async function waitFor(api: Api, io: Io, d: Destination, target: WaitTarget, timeoutMs: number): Promise<Destination | null> {
  const id = d.destinationId;
  const t0 = Date.now();
  const stop = new AbortController();
  let seen: Seen = { status: d.status, desired: d.desired, lastError: d.lastError };
  let outcome: { ok: true } | { error: CliError } | undefined;
  let frame = 0;
  let lastLine = '';
  const tty = io.stderrTTY;
  // With --json and no one watching, stderr carries only the problem document, should there be one.
  const quiet = io.json && !tty;
  const c = io.ce;
  const elapsed = (): string => duration((Date.now() - t0) / 1000);
  const line = (): string => `${d.name}: ${seen.status === 'gone' ? 'removed' : seen.status} (${elapsed()})`;
  const clear = (): void => {
    if (tty) io.errWrite('\r\x1b[K');
  };
  const show = (): void => {
    if (quiet) return;
    if (tty) io.errWrite(`\r\x1b[K${c.cyan(SPINNER[frame++ % SPINNER.length]!)} ${line()}`);
    else if (line().split(' (')[0] !== lastLine) {
      lastLine = line().split(' (')[0]!;
      io.err(line());
    }
  };
  const observe = (s: Seen): void => {
    seen = s;
    show();
    const j = judge(target, s);
    if (!j || outcome) return;
    if ('done' in j) outcome = { ok: true };
    else {
      const e = j.lastError;
      outcome = {
        error: cliError('CLI_FAILED', `${d.name} ${j.failed}${e ? `: ${e.message} (${e.code})` : '.'}`, e?.hint ?? '', {
          destinationId: id,
          status: s.status,
          desired: s.desired,
          ...(e ? { lastError: e } : {}),
        }),
      };
    }
    stop.abort();
  };
  const refresh = async (): Promise<void> => {
    try {
      const { body } = await api.request<Destination>('GET', `/api/destinations/${id}`);
      observe({ status: body.status, desired: body.desired, lastError: body.lastError });
    } catch (err) {
      if (err instanceof CliError && err.problem.status === 404) {
        observe({ ...seen, status: 'gone' });
      } else throw err;
    }
  };

  const timer = setTimeout(() => {
    if (!outcome)
      outcome = {
        error: cliError('CLI_TIMEOUT', `${d.name} is still ${seen.status} after ${duration(timeoutMs / 1000)} (wanted: ${target}).`, 'Wait longer with --timeout, or look at `fanout dest show` and `fanout events`.', {
          destinationId: id,
          status: seen.status,
        }),
      };
    stop.abort();
  }, timeoutMs);
  const ticker = tty ? setInterval(show, 1000) : undefined;
  const onSigint = (): void => {
    if (!outcome) outcome = { error: cliError('CLI_INTERRUPTED', `Stopped waiting; ${d.name} is ${seen.status}.`, 'Fanout carries on: the command was sent.') };
    stop.abort();
  };
  process.once('SIGINT', onSigint);
  show();
  try {
    await followEvents(api, {
      signal: stop.signal,
      onOpen: refresh,
      onDrop: (why, ms) => io.debug(`event stream: ${why}; reconnecting in ${ms} ms`),
      onEvent: (e) => {
        const data = e.data as { destinationId?: string; to?: Destination['status']; desired?: Destination['desired']; lastError?: LastError | null };
        if (data?.destinationId !== id) return;
        if (e.event === 'destination.status' && data.to) observe({ status: data.to, desired: data.desired ?? seen.desired, lastError: data.lastError ?? null });
        else if (e.event === 'destination.deleted') observe({ ...seen, status: 'gone' });
      },
    }).catch(async (err: unknown) => {
      // No event stream here (AWS): read the destination every 2 s instead.
      if (!(err instanceof CliError && err.problem.code === 'SSE_UNAVAILABLE')) throw err;
      io.debug('no event stream here: polling every 2 s');
      while (!stop.signal.aborted) {
        await refresh();
        if (stop.signal.aborted) break;
        await new Promise<void>((r) => {
          const t = setTimeout(r, 2000);
          stop.signal.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
        });
      }
    });
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    process.removeListener('SIGINT', onSigint);
    clear();
  }
  if (!outcome) throw cliError('CLI_FAILED', 'The wait ended without an outcome.', '');
  if ('error' in outcome) throw outcome.error;
  if (!quiet) io.err(`${c.green('✓')} ${d.name}: ${target === 'gone' ? 'removed' : target} after ${elapsed()}`);
  if (target === 'gone') return null;
  // The destination as it is now (events carry the status, not the whole record).
  return (await api.request<Destination>('GET', `/api/destinations/${id}`)).body;
}

/** Parses `90`, `90s`, `10m`, `1h`, `1h30m` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text.trim());
  if (!m || text.trim() === '' || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) throw cliError('CLI_USAGE', `Not a duration: ${JSON.stringify(text)}.`, 'e.g. 90s, 10m, 1h30m (a bare number is seconds).');
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  if (ms <= 0) throw cliError('CLI_USAGE', 'The timeout must be more than 0.', '');
  return ms;
}
