import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './index.ts';

test('defaults just work', () => {
  const c = loadConfig({});
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, './data');
  assert.equal(c.srtPort, 9998);
  assert.ok(Object.isFrozen(c));
});

test('invalid configuration lists every problem at once and never echoes a secret', () => {
  // Values no message would contain by chance (a passphrase "short" would match "too short").
  const [PASSPHRASE, TOKEN] = ['pw-Q7x9', 'tk-Z4w'];
  const err = (() => {
    try {
      loadConfig({ FANOUT_PORT: 'eighty', FANOUT_SRT_PORT: '70000', FANOUT_SRT_PASSPHRASE: PASSPHRASE, FANOUT_ADMIN_TOKEN: TOKEN, FANOUT_LOG_LEVEL: 'LOUD' });
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError);
  assert.equal(err.problems.length, 5);
  for (const name of ['FANOUT_PORT', 'FANOUT_SRT_PORT', 'FANOUT_SRT_PASSPHRASE', 'FANOUT_ADMIN_TOKEN', 'FANOUT_LOG_LEVEL']) assert.match(err.message, new RegExp(name));
  // Each secret's problem is listed, with (hidden) where the value would be, and neither value appears anywhere.
  assert.match(err.message, /FANOUT_SRT_PASSPHRASE=\(hidden\): /);
  assert.match(err.message, /FANOUT_ADMIN_TOKEN=\(hidden\): /);
  for (const secret of [PASSPHRASE, TOKEN]) assert.ok(!err.message.includes(secret), `${secret} is echoed: ${err.message}`);
  // Other values are echoed, to make the mistake obvious.
  assert.match(err.message, /FANOUT_PORT="eighty"/);
});

test('npm start refuses to start on invalid configuration with the list of problems', () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'shared/runtimes/local/main.ts'], {
    env: { PATH: process.env.PATH, FANOUT_PORT: 'nope', FANOUT_SRT_PASSPHRASE: 'x', FANOUT_DATA_DIR: '/tmp/fanout-never-used' },
    encoding: 'utf8',
    // tsx compiles the whole runtime first: on a loaded machine that alone took over 30 s.
    timeout: 120_000,
  });
  assert.equal(res.status, 78, `exit ${res.status} (signal ${res.signal}): ${res.stderr}`);
  assert.match(res.stderr, /FANOUT_PORT/);
  assert.match(res.stderr, /FANOUT_SRT_PASSPHRASE/);
  assert.match(res.stderr, /did not start/);
});

test('idle channel reclaim: 60 minutes by default, 0 = never, fractions allowed, negatives rejected', () => {
  assert.equal(loadConfig({}).idleChannelReclaimMinutes, 60);
  assert.equal(loadConfig({ FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '0' }).idleChannelReclaimMinutes, 0);
  assert.equal(loadConfig({ FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '0.5' }).idleChannelReclaimMinutes, 0.5);
  assert.throws(() => loadConfig({ FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: '-1' }), /FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES/);
  assert.throws(() => loadConfig({ FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES: 'soon' }), /FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES/);
});

test('egress: private ranges allowed by default for the local runtime, refused on AWS; the allow-list is parsed and checked', () => {
  assert.equal(loadConfig({}).egressAllowPrivate, true);
  assert.equal(loadConfig({ FANOUT_RUNTIME: 'aws' }).egressAllowPrivate, false);
  assert.equal(loadConfig({ FANOUT_RUNTIME: 'aws', FANOUT_EGRESS_ALLOW_PRIVATE: 'on' }).egressAllowPrivate, true);
  assert.equal(loadConfig({ FANOUT_EGRESS_ALLOW_PRIVATE: 'off' }).egressAllowPrivate, false);
  assert.deepEqual(loadConfig({}).egressAllowHosts, []);
  assert.deepEqual(loadConfig({ FANOUT_EGRESS_ALLOW_HOSTS: 'rtmp.corp.example, 10.0.0.0/8,,192.168.1.5' }).egressAllowHosts, ['rtmp.corp.example', '10.0.0.0/8', '192.168.1.5']);
  assert.throws(() => loadConfig({ FANOUT_EGRESS_ALLOW_HOSTS: 'rtmp://x/live' }), /FANOUT_EGRESS_ALLOW_HOSTS/);
  assert.throws(() => loadConfig({ FANOUT_EGRESS_ALLOW_PRIVATE: 'yes' }), /FANOUT_EGRESS_ALLOW_PRIVATE/);
});
