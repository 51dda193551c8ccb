/**
 * Log format (FANOUT_LOG_FORMAT): readable lines on a terminal, JSON lines otherwise or when
 * asked for, and no registered secret in either. The terminal is real: `script` gives the child a
 * pseudo-terminal; the formatter itself is checked directly too.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { formatPretty, prettyLogs } from './logger.ts';

const SECRET = 'log-format-secret-key-4242';
const FIXTURE = new URL('./fixtures/log-sample.ts', import.meta.url).pathname;
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs the fixture; `tty` under `script` (a pseudo-terminal), else with stdout and stderr piped. */
function runFixture(env: Record<string, string>, tty: boolean, extra: string[] = []): Promise<string> {
  const args = [FIXTURE, SECRET, ...extra];
  const node = `${process.execPath} --import tsx ${args.join(' ')}`;
  const e = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', FANOUT_LOG_LEVEL: 'DEBUG', ...env };
  const child = tty ? spawn('script', ['-qec', node, '/dev/null'], { env: e }) : spawn(process.execPath, ['--import', 'tsx', ...args], { env: e });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', () => resolve(out.replace(/\r/g, ''))));
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour sequences this strips.
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

test('auto: JSON lines when stdout is not a terminal, every field there, the secret scrubbed', async () => {
  const out = await runFixture({}, false);
  const lines = out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => l.level).sort(), ['ERROR', 'INFO', 'WARN'], 'one line each (stdout and stderr are two pipes: their order is not kept)');
  const info = lines.find((l) => l.level === 'INFO')!;
  assert.equal(info.service, 'fixture');
  assert.equal(info.attempt, 2);
  assert.match(String(info.target), /live2\/\*\*\*$/);
  assert.ok(!out.includes(SECRET), out);
});

test('auto at a terminal: readable lines (time, level, service, message, key=value), the secret scrubbed', { skip: !hasScript && 'no `script` here' }, async () => {
  const out = await runFixture({}, true);
  const plain = stripAnsi(out);
  assert.ok(!plain.includes('{"level"'), `not JSON: ${plain}`);
  assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} INFO  fixture  pushing to rtmp:\/\/a\.rtmp\.youtube\.com\/live2\/\*\*\*  destinationId=d-1 attempt=2 target=rtmp:\/\/a\.rtmp\.youtube\.com\/live2\/\*\*\*$/m);
  assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} WARN  fixture  slow start  seconds=12\.5$/m);
  assert.match(plain, /^\d\d:\d\d:\d\d\.\d{3} ERROR fixture  push failed  error="Error: refused \*\*\*"$/m);
  assert.match(plain, /^ {4}at .*log-sample\.ts/m, 'the stack on the lines after');
  assert.ok(out.includes('\x1b['), 'in colour at a terminal');
  assert.ok(!out.includes(SECRET), out);
});

test('asked for: json at a terminal, pretty (without colour) in a pipe', { skip: !hasScript && 'no `script` here' }, async () => {
  const json = await runFixture({ FANOUT_LOG_FORMAT: 'json' }, true);
  assert.equal(JSON.parse(json.trim().split('\n')[0]!).message, 'pushing to rtmp://a.rtmp.youtube.com/live2/***');
  const pretty = await runFixture({ FANOUT_LOG_FORMAT: 'pretty' }, false);
  assert.match(pretty, /^\d\d:\d\d:\d\d\.\d{3} INFO  fixture  pushing to/m);
  assert.ok(!pretty.includes('\x1b['), 'no colour in a pipe');
  for (const o of [json, pretty]) assert.ok(!o.includes(SECRET));
});

/** What the fixture logs with `leaks`: secrets nobody registered (see fixtures/log-sample.ts). */
const LEAKS = ['unregistered-rtmp-key-1', 'unregistered-passphrase-2', 'unregistered.bearer-3', 'fo_unregisteredTokenValue4'];

test('secrets nobody registered are scrubbed by their shape: RTMP stream keys, SRT passphrases, Authorization headers, tokens', async () => {
  const json = await runFixture({ FANOUT_LOG_FORMAT: 'json' }, false, ['leaks']);
  const lines = json
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
  assert.equal(lines.length, 7, json);
  // stdout (info) and stderr (warn, error) are two pipes: find each line by its message.
  const line = (start: string) => lines.find((l) => String(l.message).startsWith(start)) ?? assert.fail(`no line "${start}" in ${json}`);
  const [rtmp, srt, auth, token] = ['rtmp connect failed', 'srt-live-transmit', 'request:', 'token refused'].map(line);
  assert.equal(rtmp!.message, 'rtmp connect failed: rtmps://live-api-s.facebook.com:443/rtmp/***: Connection refused');
  assert.equal(rtmp!.url, 'rtmp://live.twitch.tv/app/***');
  assert.equal(srt!.message, 'srt-live-transmit: srt://0.0.0.0:9998?mode=listener&passphrase=***&pbkeylen=16');
  assert.equal(srt!.input, 'srt://127.0.0.1:9998?passphrase=***');
  assert.equal(auth!.message, 'request: GET /api/destinations Authorization: Bearer ***');
  assert.deepEqual(auth!.headers, { authorization: '***', accept: 'application/json' });
  assert.equal(token!.presented, 'fo_***');
  assert.equal(token!.detail, 'the client sent fo_***');
  const pretty = await runFixture({ FANOUT_LOG_FORMAT: 'pretty' }, false, ['leaks']);
  assert.match(pretty, /rtmp connect failed: rtmps:\/\/live-api-s\.facebook\.com:443\/rtmp\/\*\*\*: Connection refused/);
  assert.match(pretty, /passphrase=\*\*\*&pbkeylen=16/);
  assert.match(pretty, /Authorization: Bearer \*\*\*/);
  for (const out of [json, pretty]) for (const leak of LEAKS) assert.ok(!out.includes(leak), `${leak} in ${out}`);
});

test('an invalid FANOUT_LOG_FORMAT is refused at start with the others', async () => {
  const out = await runFixture({ FANOUT_LOG_FORMAT: 'xml' }, false);
  assert.match(out, /FANOUT_LOG_FORMAT="xml": Invalid option: expected one of "auto"\|"json"\|"pretty"/);
});

test('formatPretty: quoted values with spaces, JSON for objects, header fields not repeated', () => {
  const line = formatPretty({ level: 'INFO', message: 'hello', timestamp: '2026-01-02T03:04:05.006Z', service: 'svc', sampling_rate: 0, note: 'two words', n: 3, o: { a: 1 } });
  assert.match(line, /^\d\d:\d\d:05\.006 INFO  svc  hello  note="two words" n=3 o=\{"a":1\}$/);
  assert.equal(prettyLogs('auto', true), true);
  assert.equal(prettyLogs('auto', false), false);
  assert.equal(prettyLogs('json', true), false);
  assert.equal(prettyLogs('pretty', false), true);
});
