import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseProgress } from './progress.ts';
import { classifyStderr, classifyStderrText, PROCESS_ERROR_CATALOG, type ProcessErrorCode, errorFor, PUBLISH_REJECT_WINDOW_MS, STDERR_RULES } from './stderr-classifier.ts';

const dir = new URL('./fixtures/stderr/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const exitCodes = new Map(
  read('exit-codes.txt')
    .trim()
    .split('\n')
    .map((l) => {
      const [name, code] = l.split(' ');
      return [name!, Number(code)] as const;
    }),
);
/** How much media the recorded run had sent, from the progress recorded alongside it. */
const mediaSent = (name: string): number | undefined => {
  try {
    return parseProgress(read(`${name}.progress.txt`)).at(-1)?.outTimeMs ?? 0;
  } catch {
    return undefined;
  }
};
/** Every stream key and passphrase used while recording contains this. */
const MARKER = /SECRET\d+/g;
const secretsIn = (text: string): string[] =>
  [...new Set(text.match(MARKER) ?? [])].map((s) => {
    // The whole key: the token around the marker (sk_live_SECRET1, correcthorse_SECRET19, …).
    const m = new RegExp(`[A-Za-z0-9_-]*${s}`).exec(text);
    return m ? m[0] : s;
  });

// Every recorded failure and what it must become. `retryable` is what the operator sees.
const CASES: { fixture: string; code: ProcessErrorCode; retryable: boolean; mediaSentMs?: number }[] = [
  { fixture: 'rtmp-connection-refused', code: 'RTMP_CONNECTION_REFUSED', retryable: true },
  { fixture: 'rtmp-dns-nxdomain', code: 'DNS_RESOLUTION_FAILED', retryable: false },
  { fixture: 'rtmp-on-publish-403', code: 'RTMP_STREAM_KEY_REJECTED', retryable: false },
  { fixture: 'rtmps-on-publish-403', code: 'RTMP_STREAM_KEY_REJECTED', retryable: false },
  { fixture: 'rtmp-app-not-found', code: 'RTMP_STREAM_KEY_REJECTED', retryable: false },
  { fixture: 'rtmp-deny-publish', code: 'RTMP_STREAM_KEY_REJECTED', retryable: false },
  { fixture: 'rtmps-deny-publish', code: 'RTMP_STREAM_KEY_REJECTED', retryable: false },
  { fixture: 'rtmp-midstream-reset', code: 'RTMP_CONNECTION_CLOSED', retryable: true },
  { fixture: 'rtmp-already-publishing', code: 'RTMP_STREAM_KEY_IN_USE', retryable: true },
  { fixture: 'rtmp-handshake-timeout', code: 'RTMP_TIMEOUT', retryable: true },
  { fixture: 'rtmps-handshake-timeout', code: 'RTMP_TIMEOUT', retryable: true },
  { fixture: 'rtmp-sigint-while-connecting', code: 'RTMP_TIMEOUT', retryable: true },
  { fixture: 'rtmps-to-http-port', code: 'TLS_HANDSHAKE_FAILED', retryable: false },
  { fixture: 'rtmps-to-plain-rtmp-port-sigterm', code: 'TLS_HANDSHAKE_FAILED', retryable: false },
  { fixture: 'srt-ffmpeg-wrong-passphrase', code: 'SRT_PASSPHRASE_REJECTED', retryable: false },
  { fixture: 'srt-ffmpeg-missing-passphrase', code: 'SRT_PASSPHRASE_REJECTED', retryable: false },
  { fixture: 'srt-slt-caller-wrong-passphrase', code: 'SRT_PASSPHRASE_REJECTED', retryable: false },
  // Our listener saw a contributor with the wrong passphrase: their mistake, we keep listening.
  { fixture: 'srt-slt-listener-rejects-callers', code: 'SRT_PASSPHRASE_REJECTED', retryable: true },
  { fixture: 'srt-ffmpeg-no-listener', code: 'SRT_CONNECTION_FAILED', retryable: true },
  // srt-live-transmit gives up after 3 s, exits 0 and says nothing about why.
  { fixture: 'srt-slt-caller-no-listener', code: 'UNKNOWN', retryable: true },
  { fixture: 'srt-ffmpeg-input-lost', code: 'INPUT_STALLED', retryable: true },
  { fixture: 'encoder-odd-size', code: 'ENCODER_ERROR', retryable: false },
  { fixture: 'encoder-unknown', code: 'ENCODER_ERROR', retryable: false },
  { fixture: 'encoder-bad-option', code: 'ENCODER_ERROR', retryable: false },
  { fixture: 'bad-protocol', code: 'INVALID_URL', retryable: false },
  { fixture: 'setpriv-missing-binary', code: 'SPAWN_FAILED', retryable: false },
];

test('every recorded failure is classified as expected, with no secret in the result', () => {
  for (const c of CASES) {
    const text = read(`${c.fixture}.txt`);
    const secrets = secretsIn(text);
    const ctx = { exitCode: exitCodes.get(c.fixture) ?? null, mediaSentMs: c.mediaSentMs ?? mediaSent(c.fixture) };
    const withSecrets = classifyStderrText(text, { ...ctx, secrets });
    assert.equal(withSecrets.code, c.code, `${c.fixture}: ${withSecrets.message}`);
    assert.equal(withSecrets.retryable, c.retryable, `${c.fixture} retryable`);
    assert.equal(withSecrets.hint, PROCESS_ERROR_CATALOG[c.code].hint);
    // URL sanitisation alone must already hide the key: check without telling it the secrets.
    for (const e of [withSecrets, classifyStderrText(text, ctx)]) {
      assert.doesNotMatch(JSON.stringify(e), MARKER, `${c.fixture} leaks a secret: ${e.message}`);
      assert.doesNotMatch(e.message, / @ 0x[0-9a-f]+/, `${c.fixture}: FFmpeg context address in ${e.message}`);
      // Fits the LastError of events/envelope.ts (message and hint up to 500 characters).
      assert.ok(e.message.length <= 500 && e.hint.length <= 500, `${c.fixture}: too long for LastError`);
    }
  }
});

test('the recorded fixtures exist for every case, and every case has its exit code recorded', () => {
  for (const c of CASES) assert.ok(exitCodes.has(c.fixture), `${c.fixture} has no exit code`);
});

test('closing right after publish is a rejection; the same lines after minutes of streaming are a drop', () => {
  const text = read('rtmp-deny-publish.txt');
  assert.equal(classifyStderrText(text, { mediaSentMs: 0 }).code, 'RTMP_STREAM_KEY_REJECTED');
  assert.equal(classifyStderrText(text, { mediaSentMs: PUBLISH_REJECT_WINDOW_MS - 1 }).code, 'RTMP_STREAM_KEY_REJECTED');
  assert.equal(classifyStderrText(text, { mediaSentMs: PUBLISH_REJECT_WINDOW_MS }).code, 'RTMP_CONNECTION_CLOSED');
  assert.equal(classifyStderrText(text, { mediaSentMs: 600_000 }).code, 'RTMP_CONNECTION_CLOSED');
  // Without progress we cannot tell, and a retryable drop is the safe guess.
  assert.equal(classifyStderrText(text).code, 'RTMP_CONNECTION_CLOSED');
});

test('server errors from other RTMP servers', () => {
  const cases: [string, ProcessErrorCode][] = [
    ['[rtmp @ 0x1] Server error: NetStream.Publish.BadName', 'RTMP_STREAM_KEY_REJECTED'],
    ['[rtmp @ 0x1] Server error: Authentication failed', 'RTMP_STREAM_KEY_REJECTED'],
    ['[rtmp @ 0x1] Server error: [ AccessManager.Reject ] : [ code=403 need auth; authmod=adobe ] : ', 'RTMP_STREAM_KEY_REJECTED'],
    ['[rtmp @ 0x1] Server error: Stream already exists', 'RTMP_STREAM_KEY_IN_USE'],
    ['[tcp @ 0x1] Failed to resolve hostname x.example: Temporary failure in name resolution', 'DNS_RESOLUTION_FAILED'],
  ];
  for (const [line, code] of cases) assert.equal(classifyStderr([line]).code, code, line);
  assert.equal(classifyStderr(['[tcp @ 0x1] Failed to resolve hostname x: Temporary failure in name resolution']).retryable, true);
});

test('UNKNOWN quotes the last meaningful line and the exit status, redacted', () => {
  const e = classifyStderr(['Input #0, lavfi', 'something odd happened to rtmp://h/app/key123', 'Conversion failed!'], { exitCode: 1 });
  assert.equal(e.code, 'UNKNOWN');
  assert.equal(e.retryable, true);
  assert.equal(e.message, 'the process exited with code 1: something odd happened to rtmp://h/app/***');
  assert.equal(classifyStderr([], { signal: 'SIGKILL' }).message, 'the process was killed by SIGKILL');
});

test('the registry is complete: every rule uses a catalogued code, every code has a summary and a hint', () => {
  for (const rule of STDERR_RULES) assert.ok(rule.code in PROCESS_ERROR_CATALOG, rule.code);
  for (const [code, spec] of Object.entries(PROCESS_ERROR_CATALOG)) {
    assert.ok(spec.summary.length > 10 && spec.hint.length > 10, code);
    assert.match(code, /^[A-Z][A-Z_]+$/);
  }
  assert.equal(new Set(Object.values(PROCESS_ERROR_CATALOG).map((s) => s.summary)).size, Object.keys(PROCESS_ERROR_CATALOG).length, 'summaries are distinct');
});

test('errorFor builds catalogue errors with redacted evidence', () => {
  const e = errorFor('INPUT_STALLED', 'no progress from rtmp://h/app/abcdef for 10 s', ['abcdef']);
  assert.deepEqual(e, {
    code: 'INPUT_STALLED',
    message: 'No media has arrived for a while: no progress from rtmp://h/app/*** for 10 s',
    hint: PROCESS_ERROR_CATALOG.INPUT_STALLED.hint,
    retryable: true,
    evidence: 'no progress from rtmp://h/app/*** for 10 s',
  });
});
