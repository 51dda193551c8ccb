/**
 * The CLI with real media: `fanout test-source` is the encoder (FFmpeg over encrypted SRT to the
 * local engine), `fanout dest start --wait` follows a real start until the destination runs, and
 * the loopback nginx-rtmp receives the stream; a destination whose server refuses the connection
 * ends `--wait` with exit 1 and the engine's error. Run under the media lock
 * (`flock /tmp/fanout-media.lock ...`).
 *
 * @media FFmpeg, srt-live-transmit, nginx-rtmp (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliRunner, problemOf, type CliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { NginxRtmp, freeTcpPort, freeUdpPort } from './support/nginx-rtmp.ts';

const PASSPHRASE = 'cli-media-passphrase-42';
const KEY = 'cli-media-stream-key-0123456789';
let rt: TestRuntime;
let nginx: NginxRtmp;
let cli: CliRunner;
let source: ReturnType<CliRunner['spawn']> | undefined;

before(async () => {
  nginx = await NginxRtmp.start();
  const srtPort = await freeUdpPort();
  const srt = { FANOUT_SRT_PORT: String(srtPort), FANOUT_SRT_HOST: '127.0.0.1', FANOUT_SRT_PASSPHRASE: PASSPHRASE, FANOUT_SRT_KEY_LENGTH: '16' };
  rt = await startTestRuntime({ ...srt, FANOUT_X264_PRESET: 'ultrafast' }, { engine: 'local' });
  // The test source reads the SRT settings the way Fanout does (its environment).
  cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN, ...srt });
  await eventually(async () => (await rt.api('GET', '/api/mediaconnect/flow/status')).json?.state === 'ACTIVE', { timeoutMs: 20_000, what: 'the flow ACTIVE' });
});
after(async () => {
  if (source && source.child.exitCode === null) {
    process.kill(-source.child.pid!, 'SIGKILL');
    await source.exited;
  }
  await rt?.close();
  await nginx?.close();
});

test('fanout test-source is the encoder: the input reports it connected', { timeout: 60_000 }, async () => {
  const start = (): ReturnType<CliRunner['spawn']> => cli.spawn(['test-source', '--size', '640x360', '--fps', '30', '--bitrate', '1200000'], { detached: true });
  source = start();
  // FFmpeg's SRT caller gives up after about 3 s without an answer; an encoder calls again.
  await eventually(
    async () => {
      if (source!.child.exitCode !== null) source = start();
      return (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.connected === true;
    },
    { timeoutMs: 30_000, what: 'the test source to connect' },
  );
  const status = await cli.run(['--json', 'status']);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).input.connected, true);
  assert.match(source.out(), /Sending a 640x360 30 fps test pattern with tone to srt:\/\/127\.0\.0\.1:\d+/);
});

test('dest start --wait follows a real start to running; the platform receives the stream; stop --wait', { timeout: 120_000 }, async () => {
  const add = await cli.run(['--json', 'dest', 'add', '--name', 'Loopback', '--platform', 'custom', '--rtmp-url', nginx.url(), '--preset', 'passthrough', '--stream-key-stdin'], { input: KEY });
  assert.equal(add.code, 0, add.stderr);
  await eventually(async () => (await rt.api('GET', `/api/destinations/${JSON.parse(add.stdout).destinationId}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'idle' });
  const start = await cli.run(['dest', 'start', 'Loopback', '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stderr, /Loopback: starting/, 'progress on stderr');
  assert.match(start.stderr, /✓ Loopback: running after/);
  assert.match(start.stdout, /Loopback: running/);
  const published = await eventually(
    async () => {
      const p = await nginx.hasPublisher(KEY);
      return p?.publishing && p.bytesIn > 100_000 ? p : null;
    },
    { timeoutMs: 20_000, what: 'bytes arriving at nginx-rtmp' },
  );
  assert.ok(published.bytesIn > 100_000);
  const show = await eventually(
    async () => {
      const r = await cli.run(['--json', 'dest', 'show', 'Loopback']);
      const d = JSON.parse(r.stdout);
      return d.metrics?.bitrateKbps > 0 ? d : null;
    },
    { timeoutMs: 20_000, intervalMs: 500, what: 'metrics with a bitrate' },
  );
  assert.equal(show.status, 'running');
  const stop = await cli.run(['--json', 'dest', 'stop', 'Loopback', '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(JSON.parse(stop.stdout).status, 'idle');
  await eventually(async () => !(await nginx.hasPublisher(KEY))?.publishing, { timeoutMs: 20_000, what: 'the publisher gone' });
});

test("a server that refuses the connection: --wait ends with exit 1 and the engine's error", { timeout: 120_000 }, async () => {
  const closed = await freeTcpPort();
  const add = await cli.run(['--json', 'dest', 'add', '--name', 'Refused', '--platform', 'custom', '--rtmp-url', `rtmp://127.0.0.1:${closed}/live`, '--preset', 'passthrough', '--stream-key-stdin'], { input: KEY });
  assert.equal(add.code, 0, add.stderr);
  const id = JSON.parse(add.stdout).destinationId;
  await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { timeoutMs: 30_000, what: 'idle' });
  const start = await cli.run(['--json', 'dest', 'start', id, '--wait', '--timeout', '60s'], { timeoutMs: 90_000 });
  assert.equal(start.code, 1, start.stderr);
  const p = problemOf(start);
  assert.equal(p.code, 'CLI_FAILED');
  assert.equal(p.status, 'error');
  assert.match(p.lastError.code, /^RTMP_/, JSON.stringify(p.lastError));
  assert.ok(p.hint, "the engine error's hint");
  assert.equal((await rt.api('GET', `/api/destinations/${id}`)).json.status, 'error', 'the API agrees');
  const rm = await cli.run(['dest', 'rm', id, '--yes', '--wait'], { timeoutMs: 90_000 });
  assert.equal(rm.code, 0, rm.stderr);
});

test('Ctrl+C stops the test source; no stream key or passphrase in anything the CLI wrote', { timeout: 30_000 }, async () => {
  process.kill(-source!.child.pid!, 'SIGINT');
  const r = await source!.exited;
  assert.ok(r.code !== null, `exited (${r.code} ${r.signal})`);
  await eventually(async () => (await rt.api('GET', '/api/mediaconnect/inputs/health')).json.connected === false, { timeoutMs: 15_000, what: 'the input disconnected' });
  for (const out of cli.outputs) for (const s of [KEY, PASSPHRASE, ADMIN_TOKEN]) assert.ok(!out.includes(s), `a secret in: ${out.slice(0, 300)}`);
});
