/**
 * The `fanout` CLI against a running Fanout (the whole local runtime in this process, the memory
 * engine's AWS-like state machines so starts reach `running` by themselves; a second runtime
 * without an engine for what must never finish). Each command runs through the real bin on plain
 * node as a separate process, as a person or a script runs it: `--json` output parsed, exit codes
 * (usage 2, not found 3, auth 4, validation 2, errors 1), the config file's mode, the event
 * stream's reconnection, and at the end a scan that no token or stream key was ever written.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reportChannelState } from './support/engine-events.ts';
import { CLI_BIN, cliRunner, problemOf, type CliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { freeTcpPort } from './support/nginx-rtmp.ts';

const KEY = 'cli-test-stream-key-0123456789';
const KEY2 = 'cli-second-stream-key-abcdefghij';
let rt: TestRuntime;
let cli: CliRunner;
/** Every output of every runner, for the secret scan at the end. */
const allOutputs: string[] = [];
let operatorToken = '';
const secrets = (): string[] => [ADMIN_TOKEN, KEY, KEY2, operatorToken].filter(Boolean);
const ESC = '\x1b[';

const json = (s: string): any => JSON.parse(s);

describe('--wait that cannot succeed', () => {
  // One runtime per process at a time (the runtime installs process-wide infrastructure): this one
  // has no engine, so nothing ever answers a start but what the test reports.
  let bare: TestRuntime;
  let cliBare: CliRunner;
  let id = '';
  before(async () => {
    bare = await startTestRuntime({}, { engine: 'none', ssePingMs: 1000 });
    cliBare = cliRunner({ FANOUT_URL: bare.url, FANOUT_TOKEN: ADMIN_TOKEN });
    // The first run builds the bundle (a fresh checkout has none).
    assert.equal((await cliBare.run(['--version'])).code, 0);
    const r = await bare.api('POST', '/api/destinations', { body: { name: 'Never', platform: 'youtube', streamKey: KEY } });
    id = r.json.destinationId;
    // Its channel exists (as channel-provisioner would report): idle, so a start goes to `starting`.
    await reportChannelState(bare, id, 'IDLE');
    await eventually(async () => (await bare.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { what: 'idle' });
  });
  after(async () => {
    allOutputs.push(...cliBare.outputs);
    await bare?.close();
  });

  test('no engine answers: --timeout ends it with exit 1 and the status it was left in', async () => {
    const t0 = Date.now();
    const r = await cliBare.run(['--json', 'dest', 'start', id, '--wait', '--timeout', '2s']);
    assert.equal(r.code, 1, r.stderr);
    const p = problemOf(r);
    assert.equal(p.code, 'CLI_TIMEOUT');
    assert.equal(p.status, 'starting');
    assert.ok(Date.now() - t0 >= 2000);
  });

  test('the channel fails while waiting: exit 1 with its lastError and hint', async () => {
    const waiting = cliBare.spawn(['dest', 'start', id, '--wait', '--timeout', '30s']);
    await eventually(() => /Never: starting/.test(waiting.err()), { what: `the wait to begin: ${waiting.err()}` });
    // As the engine reports a push the platform refuses: still STARTING, with the error.
    await reportChannelState(bare, id, 'STARTING', { error: { code: 'RTMP_AUTH_REJECTED', message: 'The platform rejected the stream key.', hint: 'Check the stream key.' } });
    const r = await waiting.exited;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: Failed: Never is in error: The platform rejected the stream key\. \(RTMP_AUTH_REJECTED\)/);
    assert.match(r.stderr, /hint: Check the stream key\./);
  });
});

describe('against a running Fanout (memory engine)', () => {
  before(async () => {
    rt = await startTestRuntime({}, { engine: 'memory', ssePingMs: 1000 });
    cli = cliRunner({ FANOUT_URL: rt.url, FANOUT_TOKEN: ADMIN_TOKEN });
  });
  after(async () => {
    allOutputs.push(...cli.outputs);
    await rt?.close();
  });

  describe('usage and help', () => {
    test('--help lists every command and the exit codes; --version prints the package version', async () => {
      const r = await cli.run(['--help']);
      assert.equal(r.code, 0);
      for (const c of ['status', 'dest', 'preset', 'platform', 'token', 'events', 'test-source', 'login']) assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`), c);
      assert.match(r.stdout, /Exit codes: 0 ok, 1 error/);
      const add = await cli.run(['dest', 'add', '--help']);
      assert.match(add.stdout.replace(/\s+/g, ' '), /--stream-key <key> the stream key on the command line: visible to other users in `ps`/, 'help says argv is visible');
      const v = await cli.run(['--version']);
      assert.equal(v.stdout.trim(), json(readFileSync('package.json', 'utf8')).version);
    });

    test('a bad command line exits 2, with a problem document under --json', async () => {
      for (const args of [['frobnicate'], ['dest', 'start'], ['--bogus', 'status'], ['dest', 'start', 'x', '--timeout', 'soon', '--wait'], ['dest']]) {
        const r = await cli.run(['--json', ...args]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '', 'nothing on stdout');
        if (args[0] !== 'dest' || args.length > 1) assert.equal(problemOf(r).code, 'CLI_USAGE', args.join(' '));
      }
      const human = await cli.run(['dest', 'frob']);
      assert.equal(human.code, 2);
      assert.match(human.stderr, /error: .*unknown command 'frob'/);
    });

    test('the bundle is rebuilt when a source file is newer than it', async () => {
      const bundle = '.build/cli/fanout.mjs';
      const before = statSync(bundle).mtimeMs;
      const src = 'services/cli/src/exit-codes.ts';
      const touched = spawnSync('touch', ['-d', '@' + String(Math.ceil(before / 1000) + 2), src]);
      assert.equal(touched.status, 0);
      const r = await cli.run(['--version']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(statSync(bundle).mtimeMs > before, 'rebuilt');
    });
  });

  describe('authentication', () => {
    test('no token: exit 4 before any request; a refused token: exit 4 with the API problem; neither token is printed', async () => {
      const none = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: undefined } });
      assert.equal(none.code, 4);
      assert.equal(problemOf(none).code, 'CLI_NO_TOKEN');
      const wrong = 'wrong-token-0123456789abcdef';
      const bad = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: wrong } });
      assert.equal(bad.code, 4);
      const p = problemOf(bad);
      assert.equal(p.code, 'UNAUTHENTICATED');
      assert.equal(p.status, 401);
      assert.ok(!bad.stderr.includes(wrong) && !bad.stdout.includes(wrong));
      const flag = await cli.run(['--token', wrong, 'dest', 'list'], { env: { FANOUT_TOKEN: undefined } });
      assert.equal(flag.code, 4);
      assert.match(flag.stderr, /warning: --token is visible to other users/);
      assert.ok(!flag.stderr.includes(wrong), 'not even in the warning');
    });

    test('an operator token: admin commands exit 4 (FORBIDDEN)', async () => {
      const r = await cli.run(['--json', 'token', 'create', '--name', 'ops', '--role', 'operator']);
      assert.equal(r.code, 0, r.stderr);
      const created = json(r.stdout);
      assert.equal(created.role, 'operator');
      operatorToken = created.token;
      const forbidden = await cli.run(['--json', 'token', 'list'], { env: { FANOUT_TOKEN: operatorToken } });
      assert.equal(forbidden.code, 4);
      assert.equal(problemOf(forbidden).code, 'FORBIDDEN');
      const ok = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: operatorToken } });
      assert.equal(ok.code, 0, ok.stderr);
    });

    test('--verbose shows each request but the token only as ***', async () => {
      const r = await cli.run(['--verbose', 'dest', 'list']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`GET ${rt.url}/api/destinations`));
      assert.match(r.stderr, /Bearer \*\*\*/);
      assert.match(r.stderr, /200 OK in \d+ ms/);
      assert.ok(!r.stderr.includes(ADMIN_TOKEN));
    });

    test('Fanout unreachable: exit 1 with a hint', async () => {
      const port = await freeTcpPort();
      const r = await cli.run(['--json', '--url', `http://127.0.0.1:${port}`, 'dest', 'list']);
      assert.equal(r.code, 1);
      const p = problemOf(r);
      assert.equal(p.code, 'CLI_UNREACHABLE');
      assert.match(p.detail, /ECONNREFUSED/);
    });
  });

  describe('destinations', () => {
    let id = '';

    test('empty results are still JSON ([]) and tables say so on stderr', async () => {
      const list = await cli.run(['--json', 'dest', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(json(list.stdout), []);
      const human = await cli.run(['dest', 'list']);
      assert.equal(human.stdout, '');
      assert.match(human.stderr, /No destinations/);
    });

    test('dest add reads the key from stdin; --stream-key works but warns; without a key and a terminal, exit 2', async () => {
      const r = await cli.run(['--json', 'dest', 'add', '--name', 'YT main', '--platform', 'youtube', '--stream-key-stdin'], { input: `${KEY}\n` });
      assert.equal(r.code, 0, r.stderr);
      const d = json(r.stdout);
      id = d.destinationId;
      assert.equal(d.name, 'YT main');
      assert.equal(d.streamKeyLast4, KEY.slice(-4));
      assert.equal(d.rtmpUrl, 'rtmps://a.rtmps.youtube.com:443/live2', 'RTMPS by default');
      const warned = await cli.run(['dest', 'add', '--name', 'Twitch', '--platform', 'twitch', '--stream-key', KEY2]);
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stderr, /warning: --stream-key puts the key in the command line/);
      assert.match(warned.stdout, /Twitch\s+twitch\s+twitch-1080p60\s+creating\s+••••ghij/, 'a table row, key masked');
      const noKey = await cli.run(['--json', 'dest', 'add', '--name', 'X', '--platform', 'youtube']);
      assert.equal(noKey.code, 2);
      assert.equal(problemOf(noKey).code, 'CLI_USAGE');
      assert.match(problemOf(noKey).hint, /--stream-key-stdin/);
    });

    test('invalid input: the API problem as it says it (field errors), exit 2, nothing created', async () => {
      const count = (await rt.api('GET', '/api/destinations')).json.destinations.length;
      const badUrl = await cli.run(['--json', 'dest', 'add', '--name', 'Bad', '--platform', 'custom', '--rtmp-url', 'http://nope', '--stream-key-stdin'], { input: KEY });
      assert.equal(badUrl.code, 2);
      const p = problemOf(badUrl);
      assert.equal(p.code, 'VALIDATION_FAILED');
      assert.ok(
        p.errors.some((e: { path: string }) => e.path === 'rtmpUrl'),
        JSON.stringify(p.errors),
      );
      const human = await cli.run(['dest', 'add', '--name', 'Bad', '--platform', 'custom', '--rtmp-url', 'http://nope', '--stream-key-stdin'], { input: KEY });
      assert.equal(human.code, 2);
      assert.match(human.stderr, /error: The request is not valid: .*\(VALIDATION_FAILED, 400\)/);
      assert.match(human.stderr, /\n  rtmpUrl: must be an rtmp:\/\/ or rtmps:\/\/ URL/, 'the field error, next to its field');
      assert.match(human.stderr, /hint: Fix the fields listed/);
      const unknown = await cli.run(['--json', 'dest', 'add', '--name', 'Bad', '--platform', 'nope', '--stream-key-stdin'], { input: KEY });
      assert.equal(unknown.code, 2);
      assert.equal(problemOf(unknown).code, 'UNKNOWN_PLATFORM');
      assert.equal((await rt.api('GET', '/api/destinations')).json.destinations.length, count, 'nothing created');
    });

    test('dest list and show: by name, by id prefix, with metrics; a name or id that does not exist exits 3', async () => {
      const list = await cli.run(['--json', 'dest', 'list']);
      assert.deepEqual(
        json(list.stdout)
          .map((d: { name: string }) => d.name)
          .sort(),
        ['Twitch', 'YT main'],
      );
      const byName = await cli.run(['--json', 'dest', 'show', 'YT main']);
      assert.equal(byName.code, 0, byName.stderr);
      assert.equal(json(byName.stdout).destinationId, id);
      assert.ok('metrics' in json(byName.stdout));
      const byPrefix = await cli.run(['dest', 'show', id.slice(0, 8)]);
      assert.equal(byPrefix.code, 0, byPrefix.stderr);
      assert.match(byPrefix.stdout, /stream key\s+••••6789/);
      assert.match(byPrefix.stdout, /status\s+\w+ \(wanted: stopped\)/);
      const missing = await cli.run(['--json', 'dest', 'show', 'Nothing by this name']);
      assert.equal(missing.code, 3);
      assert.equal(problemOf(missing).code, 'CLI_NOT_FOUND');
      const missingId = await cli.run(['--json', 'dest', 'show', '00000000-0000-4000-8000-000000000000']);
      assert.equal(missingId.code, 3);
      assert.equal(problemOf(missingId).code, 'DESTINATION_NOT_FOUND');
    });

    test('dest edit: name and a new key from stdin; a stale --if-version is a conflict (exit 1)', async () => {
      await eventually(async () => (await rt.api('GET', `/api/destinations/${id}`)).json.status === 'idle', { what: 'idle' });
      const r = await cli.run(['--json', 'dest', 'edit', 'YT main', '--name', 'YouTube main', '--stream-key-stdin'], { input: KEY2 });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).name, 'YouTube main');
      assert.equal(json(r.stdout).streamKeyLast4, KEY2.slice(-4));
      const nothing = await cli.run(['dest', 'edit', id]);
      assert.equal(nothing.code, 2);
      const stale = await cli.run(['--json', 'dest', 'edit', id, '--name', 'Again', '--if-version', '1']);
      assert.equal(stale.code, 1, stale.stderr);
      assert.equal(problemOf(stale).code, 'VERSION_CONFLICT');
    });

    test('dest start --wait follows it to running (progress on stderr); stop --wait back to idle', async () => {
      const r = await cli.run(['--json', 'dest', 'start', 'YouTube main', '--wait', '--timeout', '30s']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).status, 'running');
      assert.equal((await rt.api('GET', `/api/destinations/${id}`)).json.status, 'running', 'the API agrees');
      const human = await cli.run(['dest', 'stop', id, '--wait']);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stderr, /YouTube main: (stopping|idle)/);
      assert.match(human.stderr, /✓ YouTube main: idle after/);
      assert.match(human.stdout, /YouTube main: idle/);
    });

    test('dest add --start --wait: created and running in one command', async () => {
      const r = await cli.run(['--json', 'dest', 'add', '--name', 'LinkedIn', '--platform', 'linkedin', '--rtmp-url', 'rtmps://1.2.3.4:443/live', '--stream-key-stdin', '--start', '--wait'], { input: KEY });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).status, 'running');
    });

    test('dest rm asks (not at a terminal: needs --yes, exit 2, nothing removed); --yes --wait until gone', async () => {
      const refused = await cli.run(['dest', 'rm', 'Twitch']);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /Pass --yes/);
      assert.ok((await rt.api('GET', '/api/destinations')).json.destinations.some((d: { name: string }) => d.name === 'Twitch'));
      const r = await cli.run(['--json', 'dest', 'rm', 'Twitch', '--yes', '--wait']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(json(r.stdout).removed, true);
      assert.ok(!(await rt.api('GET', '/api/destinations')).json.destinations.some((d: { name: string }) => d.name === 'Twitch'));
    });
  });

  describe('presets, platforms, tokens', () => {
    test('preset list (for a platform: its own first), add, invalid add (exit 2, field errors), rm in use refused, rm', async () => {
      const list = await cli.run(['--json', 'preset', 'list', '--platform', 'twitch']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(json(list.stdout)[0].platform, 'twitch');
      const add = await cli.run(['--json', 'preset', 'add', '--id', 'cli-540p', '--name', 'CLI 540p', '--resolution', '960x540', '--fps', '30', '--video-bitrate', '1800k']);
      assert.equal(add.code, 0, add.stderr);
      assert.equal(json(add.stdout).video.bitrate, 1_800_000);
      const bad = await cli.run(['--json', 'preset', 'add', '--name', 'Too low', '--resolution', '960x540', '--fps', '30', '--video-bitrate', '50k']);
      assert.equal(bad.code, 2);
      assert.ok(
        problemOf(bad).errors.some((e: { path: string }) => e.path === 'video.bitrate'),
        bad.stderr,
      );
      const used = await rt.api('POST', '/api/destinations', { body: { name: 'Uses 540p', platform: 'custom', rtmpUrl: 'rtmp://127.0.0.1/live', streamKey: KEY, preset: 'cli-540p' } });
      assert.equal(used.status, 201, used.text);
      const inUse = await cli.run(['preset', 'rm', 'cli-540p', '--yes']);
      assert.equal(inUse.code, 1);
      assert.match(inUse.stderr, /PRESET_IN_USE, 409/);
      assert.match(inUse.stderr, /usedBy: .*Uses 540p|usedBy: .*[0-9a-f]{8}-/);
      const human = await cli.run(['preset', 'list']);
      assert.match(human.stdout, /^ID\s+NAME\s+PLATFORM\s+VIDEO\s+AUDIO/);
      assert.match(human.stdout, /\ncli-540p\s+CLI 540p\s+generic\s+960x540 30 fps 1\.8 Mbit\/s\s+AAC 128 kbit\/s/);
      const missing = await cli.run(['--json', 'preset', 'rm', 'no-such-preset', '--yes']);
      assert.equal(missing.code, 3);
      assert.equal(problemOf(missing).code, 'PRESET_NOT_FOUND');
      const byOperator = await cli.run(['--json', 'preset', 'add', '--name', 'Op', '--passthrough'], { env: { FANOUT_TOKEN: operatorToken } });
      assert.equal(byOperator.code, 4);
    });

    test('platform list: ingest URLs and limits', async () => {
      const r = await cli.run(['--json', 'platform', 'list']);
      assert.equal(r.code, 0, r.stderr);
      const ids = json(r.stdout).map((p: { platformId: string }) => p.platformId);
      for (const p of ['youtube', 'twitch', 'facebook', 'linkedin', 'custom']) assert.ok(ids.includes(p), p);
      const human = await cli.run(['platform', 'list']);
      assert.match(human.stdout, /youtube\s+YouTube\s+rtmps:\/\/a\.rtmps\.youtube\.com:443\/live2/);
    });

    test('token create prints the new token alone on stdout (once), list never shows values, revoke stops it working', async () => {
      const r = await cli.run(['token', 'create', '--name', 'ci']);
      assert.equal(r.code, 0, r.stderr);
      const token = r.stdout.trim();
      assert.match(token, /^fo_\S{20,}$/, 'only the token on stdout');
      assert.match(r.stderr, /Shown only this once/);
      const works = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: token } });
      assert.equal(works.code, 0, works.stderr);
      const list = await cli.run(['--json', 'token', 'list']);
      const tokens = json(list.stdout);
      assert.ok(!list.stdout.includes(token));
      const ci = tokens.find((t: { name: string }) => t.name === 'ci');
      const revoked = await cli.run(['--json', 'token', 'revoke', ci.tokenId, '--yes']);
      assert.equal(revoked.code, 0, revoked.stderr);
      const refused = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: token } });
      assert.equal(refused.code, 4);
      const gone = await cli.run(['--json', 'token', 'revoke', ci.tokenId, '--yes']);
      assert.equal(gone.code, 3);
    });
  });

  describe('status', () => {
    test('health, flow, input and destinations, as a summary and as JSON', async () => {
      const r = await cli.run(['--json', 'status']);
      assert.equal(r.code, 0, r.stderr);
      const s = json(r.stdout);
      assert.equal(s.health.status, 'ok');
      assert.equal(typeof s.flow.state, 'string');
      assert.equal(s.destinations.total, (await rt.api('GET', '/api/destinations')).json.destinations.length);
      assert.equal(s.destinations.running, (await rt.api('GET', '/api/destinations')).json.destinations.filter((d: { status: string }) => d.status === 'running').length);
      const human = await cli.run(['status']);
      assert.match(human.stdout, /^fanout\s+http:\/\/127\.0\.0\.1:\d+\s+ok/m);
      assert.match(human.stdout, /^destinations\s+\d+ of \d+ running/m);
    });
  });

  describe('login and profiles', () => {
    test('login writes the profile mode 0600 under XDG_CONFIG_HOME, then commands use it; the token never printed', async () => {
      const r = await cli.run(['login', '--url', rt.url, '--token-stdin'], { input: ADMIN_TOKEN, env: { FANOUT_TOKEN: undefined, FANOUT_URL: undefined } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Logged in to http:\/\/127\.0\.0\.1:\d+ as admin; profile "default"/);
      const path = join(cli.env.XDG_CONFIG_HOME!, 'fanout', 'config.json');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(cli.env.XDG_CONFIG_HOME!, 'fanout')).mode & 0o777, 0o700);
      const file = json(readFileSync(path, 'utf8'));
      assert.equal(file.current, 'default');
      assert.equal(file.profiles.default.role, 'admin');
      const list = await cli.run(['--json', 'dest', 'list'], { env: { FANOUT_TOKEN: undefined, FANOUT_URL: undefined } });
      assert.equal(list.code, 0, list.stderr);
    });

    test('profiles: --profile / FANOUT_PROFILE pick one; the environment beats the profile; a saved token is never sent to another URL', async () => {
      const env = { FANOUT_TOKEN: undefined, FANOUT_URL: undefined };
      const ops = await cli.run(['login', '--profile', 'ops', '--url', rt.url, '--token-stdin'], { input: operatorToken, env });
      assert.equal(ops.code, 0, ops.stderr);
      assert.match(ops.stdout, /as operator/);
      assert.equal((await cli.run(['--json', 'token', 'list'], { env })).code, 4, 'ops is now current');
      assert.equal((await cli.run(['--json', '--profile', 'default', 'token', 'list'], { env })).code, 0);
      assert.equal((await cli.run(['--json', 'token', 'list'], { env: { ...env, FANOUT_PROFILE: 'default' } })).code, 0);
      assert.equal((await cli.run(['--json', 'token', 'list'], { env: { ...env, FANOUT_TOKEN: ADMIN_TOKEN } })).code, 0, 'FANOUT_TOKEN beats the profile');
      // Another origin (the same server by another name, so it would answer): the profile's token is not sent there.
      const other = await cli.run(['--json', '--url', rt.url.replace('127.0.0.1', 'localhost'), 'dest', 'list'], { env });
      assert.equal(other.code, 4);
      assert.equal(problemOf(other).code, 'CLI_NO_TOKEN');
    });

    test('a token the API refuses is not saved; logout removes the profile; without XDG_CONFIG_HOME the file is ~/.config/fanout', async () => {
      const path = join(cli.env.XDG_CONFIG_HOME!, 'fanout', 'config.json');
      const before = readFileSync(path, 'utf8');
      const bad = await cli.run(['login', '--profile', 'bad', '--url', rt.url, '--token-stdin'], { input: 'not-a-valid-token-000000', env: { FANOUT_TOKEN: undefined } });
      assert.equal(bad.code, 4);
      assert.equal(readFileSync(path, 'utf8'), before, 'unchanged');
      const out = await cli.run(['--profile', 'ops', 'logout']);
      assert.equal(out.code, 0, out.stderr);
      assert.ok(!('ops' in json(readFileSync(path, 'utf8')).profiles));
      const home = await cli.run(['login', '--url', rt.url, '--token-stdin'], { input: ADMIN_TOKEN, env: { FANOUT_TOKEN: undefined, XDG_CONFIG_HOME: undefined } });
      assert.equal(home.code, 0, home.stderr);
      const homePath = join(cli.home, '.config', 'fanout', 'config.json');
      assert.ok(existsSync(homePath));
      assert.equal(statSync(homePath).mode & 0o777, 0o600);
    });
  });

  /** A TCP proxy in front of the API whose connections the test can cut, seeing each request's head. */
  async function cuttableProxy(target: string): Promise<{ url: string; heads: string[]; cut(): void; close(): Promise<void> }> {
    const { hostname, port } = new URL(target);
    const sockets = new Set<Socket>();
    const heads: string[] = [];
    const server: Server = createServer((client) => {
      const upstream = connect(Number(port), hostname);
      let first = true;
      client.on('data', (d: Buffer) => {
        if (first) heads.push(d.toString('latin1').split('\r\n\r\n')[0] ?? '');
        first = false;
        upstream.write(d);
      });
      upstream.pipe(client);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address() as { port: number };
    return {
      url: `http://127.0.0.1:${addr.port}`,
      heads,
      cut: () => {
        for (const s of sockets) s.destroy();
      },
      close: () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy();
          server.close(() => r());
        }),
    };
  }

  describe('events', () => {
    test('follows the stream as NDJSON, reconnects after a cut with Last-Event-ID and loses nothing; Ctrl+C exits 130', async () => {
      const proxy = await cuttableProxy(rt.url);
      try {
        const follow = cli.spawn(['--json', 'events'], { env: { FANOUT_URL: proxy.url } });
        const lines = (): any[] =>
          follow
            .out()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
        await eventually(() => proxy.heads.some((h) => h.startsWith('GET /api/events')), { what: 'the stream to open' });
        const a = await rt.api('POST', '/api/destinations', { body: { name: 'Events A', platform: 'youtube', streamKey: KEY } });
        const created = await eventually(() => lines().find((l) => l.event === 'destination.created' && l.data.destinationId === a.json.destinationId), { what: 'A created' });
        assert.ok(created.id, 'events keep their ids');
        // Let A's own status events arrive too, then cut: the last id seen is the one to resume from.
        await eventually(async () => (await rt.api('GET', `/api/destinations/${a.json.destinationId}`)).json.status === 'idle', { what: 'A idle' });
        await eventually(() => lines().some((l) => l.event === 'destination.status' && l.data.destinationId === a.json.destinationId && l.data.to === 'idle'), { what: 'A idle event' });
        const lastId = lines()
          .filter((l) => l.id)
          .pop().id;
        const opened = proxy.heads.length;
        proxy.cut();
        const b = await rt.api('POST', '/api/destinations', { body: { name: 'Events B', platform: 'youtube', streamKey: KEY } });
        await eventually(() => lines().some((l) => l.event === 'destination.created' && l.data.destinationId === b.json.destinationId), { what: 'B created after the reconnection', timeoutMs: 15_000 });
        const resumed = proxy.heads.slice(opened).find((h) => h.startsWith('GET /api/events'));
        assert.ok(resumed, 'a new connection');
        assert.match(resumed!, new RegExp(`\\r\\nlast-event-id: ${lastId}\\r\\n`, 'i'), 'resumed from the last id seen');
        assert.equal(lines().filter((l) => l.event === 'destination.created' && l.data.destinationId === a.json.destinationId).length, 1, 'nothing twice');
        follow.child.kill('SIGINT');
        const r = await follow.exited;
        assert.equal(r.code, 130);
        assert.ok(!r.stderr.includes('{"type"'), `no error on Ctrl+C: ${r.stderr}`);
      } finally {
        await proxy.close();
      }
    });

    test('readable lines: status moves with names, from → to', async () => {
      const follow = cli.spawn(['events']);
      await eventually(() => /Following/.test(follow.err()), { what: 'following' });
      // The stream opens right after that line; give the connection a moment by waiting for a ping-free signal: create, then look.
      await eventually(async () => rt.sse.subscriberCount >= 1, { what: 'subscribed' });
      const c = await rt.api('POST', '/api/destinations', { body: { name: 'Readable', platform: 'twitch', streamKey: KEY } });
      await eventually(() => /created\s+Readable \([0-9a-f]{8}\)\s+twitch, twitch-1080p60/.test(follow.out()), { what: 'created line' });
      await eventually(() => new RegExp(`status\\s+Readable \\(${c.json.destinationId.slice(0, 8)}\\)\\s+creating → idle`).test(follow.out()), { what: 'status line' });
      follow.child.kill('SIGINT');
      await follow.exited;
    });
  });

  describe('terminals and colour', () => {
    test('not a terminal: no colour codes anywhere; --color always forces them; NO_COLOR wins over a terminal', async () => {
      for (const o of cli.outputs) assert.ok(!o.includes(ESC), `an escape code in: ${o.slice(0, 200)}`);
      const forced = await cli.run(['--color', 'always', 'platform', 'list']);
      assert.ok(forced.stdout.includes(ESC), 'forced colour');
      if (spawnSync('script', ['--version']).status !== 0) return;
      // `script` gives the CLI a pseudo-terminal (asynchronously: the API answers from this process).
      const inPty = (env: string): Promise<string> =>
        new Promise((resolvePty) => {
          const child = spawn('script', ['-qec', `env ${env} FANOUT_URL=${rt.url} FANOUT_TOKEN=${ADMIN_TOKEN} HOME=${cli.home} ${process.execPath} ${CLI_BIN} platform list`, '/dev/null'], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('close', () => resolvePty(out));
        });
      const tty = await inPty('');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI bold sequences the terminal output must carry.
      assert.match(tty, /\x1b\[1mID\x1b\[22m/, 'a bold header on a terminal');
      const noColor = await inPty('NO_COLOR=1');
      assert.match(noColor, /ID\s+NAME/);
      assert.ok(!noColor.includes(ESC), 'NO_COLOR');
      cli.outputs.push(tty, noColor);
    });
  });
});

test('no token and no stream key in anything the CLI wrote', () => {
  assert.ok(allOutputs.length > 50, `${allOutputs.length} outputs`);
  for (const out of allOutputs)
    for (const s of secrets()) {
      // `token create` prints the token it creates, once, on purpose: the operator token was created so.
      if (s === operatorToken && out.trim().startsWith('{') && out.includes('"role":"operator"') && out.includes('"name":"ops"')) continue;
      assert.ok(!out.includes(s), `a secret in: ${out.slice(0, 300)}`);
    }
});
