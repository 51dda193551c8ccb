/**
 * "Running it for real" (docs/operations.md), checked: the systemd unit in deploy/systemd is valid
 * (`systemd-analyze verify` where it exists, else its keys) and runs what `npm start` runs, with
 * the journal, restart on failure and no restart loop on bad configuration; the example nginx
 * configuration in deploy/nginx runs, as written (certificate, names and ports swapped for the
 * test's), in front of a real Fanout: TLS, the HTTP → HTTPS redirect, the API through the CLI, the
 * HLS headers passed on, and live events arriving through it unbuffered.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_OUTFILE } from '../shared/runtimes/local/build.ts';
import { cliRunner } from './support/cli.ts';
import { ADMIN_TOKEN, eventually, startTestRuntime, type TestRuntime } from './support/local.ts';
import { freeTcpPort, portOpen } from './support/nginx-rtmp.ts';

const UNIT = readFileSync('deploy/systemd/fanout.service', 'utf8');

function renderUnit(user?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-unit-'));
  const r = spawnSync('bash', ['deploy/systemd/install.sh', '--render', dir], { encoding: 'utf8', env: { ...process.env, ...(user ? { FANOUT_SERVICE_USER: user } : {}) } });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'fanout.service');
}

/** `key=value` lines of one section of a unit file. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      current = m[1]!;
      continue;
    }
    if (current !== name) continue;
    const i = line.indexOf('=');
    const k = line.slice(0, i);
    out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
  }
  return out;
}

describe('the systemd unit', () => {
  test('systemd-analyze verify finds nothing to say about it (where systemd-analyze exists)', { skip: spawnSync('systemd-analyze', ['--version']).status !== 0 && 'no systemd-analyze here' }, () => {
    const path = renderUnit();
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // verify exits 0 on unknown keys and unparsable values, only saying so: nothing may be said about our unit.
    const ours = r.stderr.split('\n').filter((l) => l.includes('fanout.service'));
    assert.deepEqual(ours, [], r.stderr);
  });

  test('its keys: runs the bundle npm start runs, journal, restart on failure but not on bad configuration, installable', () => {
    const path = renderUnit('fanout');
    const text = readFileSync(path, 'utf8');
    assert.doesNotMatch(text, /@[A-Z]+@/, 'every placeholder filled in');
    const svc = section(text, 'Service');
    const one = (k: string): string | undefined => svc.get(k)?.[0];
    const exec = one('ExecStart')!;
    const [shell, script, bundle] = exec.split(' ');
    assert.ok(existsSync(shell!), shell);
    assert.equal(script, resolve('shared/runtimes/local/run-bundle.sh'));
    assert.equal(bundle, DEFAULT_OUTFILE, 'the bundle build.ts writes');
    assert.equal(one('WorkingDirectory'), process.cwd());
    assert.equal(one('Restart'), 'on-failure');
    assert.equal(one('RestartPreventExitStatus'), '78', 'main.ts exits 78 on invalid configuration');
    assert.match(readFileSync('shared/runtimes/local/main.ts', 'utf8'), /process\.exit\(78\)/);
    assert.equal(one('StandardOutput'), 'journal');
    assert.equal(one('StandardError'), 'journal');
    assert.equal(one('User'), 'fanout');
    assert.equal(one('StateDirectory'), 'fanout');
    const env = svc.get('Environment') ?? [];
    assert.ok(env.includes('FANOUT_DATA_DIR=/var/lib/fanout'));
    assert.ok(env.includes('FANOUT_LOG_FORMAT=json'), 'JSON lines in the journal');
    assert.ok(
      env.some((e) => e.startsWith('PATH=') && e.includes(resolve(process.execPath, '..'))),
      "node's directory on PATH",
    );
    assert.equal(one('EnvironmentFile'), '-/etc/fanout/fanout.env');
    assert.equal(section(text, 'Install').get('WantedBy')?.[0], 'multi-user.target');
    assert.ok(!UNIT.includes('FANOUT_ADMIN_TOKEN'), 'no secret in the unit');
    assert.equal(spawnSync('bash', ['-n', 'deploy/systemd/install.sh']).status, 0, 'install.sh parses');
  });
});

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(url: string, ca?: Buffer): Promise<Got> {
  return new Promise((resolveGet, reject) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the example nginx TLS proxy, in front of a running Fanout', { skip: spawnSync('nginx', ['-v']).status !== 0 && 'no nginx here' }, () => {
  let rt: TestRuntime;
  let nginx: ChildProcess | undefined;
  let dir = '';
  let httpsPort = 0;
  let httpPort = 0;
  let ca: Buffer;

  before(async () => {
    rt = await startTestRuntime({}, { engine: 'memory', ssePingMs: 1000 });
    dir = mkdtempSync(join(tmpdir(), 'fanout-proxy-'));
    mkdirSync(join(dir, 'tmp'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=fanout.test', '-addext', 'subjectAltName=IP:127.0.0.1'], {
      stdio: 'ignore',
    });
    ca = readFileSync(join(dir, 'cert.pem'));
    [httpsPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
    const upstream = new URL(rt.url).port;
    // The file as shipped, with only what differs on a test machine swapped.
    const site = readFileSync('deploy/nginx/fanout.conf', 'utf8')
      .replace(/^\s*listen \[::\].*$/gm, '')
      .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${upstream};`)
      .replace('/etc/letsencrypt/live/fanout.example.com/fullchain.pem', join(dir, 'cert.pem'))
      .replace('/etc/letsencrypt/live/fanout.example.com/privkey.pem', join(dir, 'key.pem'));
    assert.ok(!site.includes('/etc/letsencrypt') && site.includes(`:${upstream};`), 'the swaps took');
    writeFileSync(join(dir, 'site.conf'), site);
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nmaster_process off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log info;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};\n`).join('') +
        `  include ${dir}/site.conf;\n}\n`,
    );
    nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await eventually(
      async () => {
        if (nginx!.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
        return (await portOpen(httpsPort)) && (await portOpen(httpPort));
      },
      { what: 'nginx listening' },
    );
  });
  after(async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGTERM');
      await new Promise((r) => nginx!.once('exit', r));
    }
    await rt?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('plain HTTP redirects to HTTPS; the certificate is served; HLS keeps its CORS header through the proxy', async () => {
    const redirect = await get(`http://127.0.0.1:${httpPort}/api/health`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://127.0.0.1/api/health`);
    const health = await get(`https://127.0.0.1:${httpsPort}/api/health`, ca);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    assert.match(String(health.headers['strict-transport-security']), /max-age=/);
    const hls = await get(`https://127.0.0.1:${httpsPort}/hls/primary/index.m3u8`, ca);
    assert.equal(hls.headers['access-control-allow-origin'], '*', 'a player on another site can load it');
  });

  test('the CLI through the proxy; live events arrive through it at once (unbuffered)', async () => {
    const cli = cliRunner({ FANOUT_URL: `https://127.0.0.1:${httpsPort}`, FANOUT_TOKEN: ADMIN_TOKEN, NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') });
    const status = await cli.run(['--json', 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal(JSON.parse(status.stdout).health.status, 'ok');
    const follow = cli.spawn(['--json', 'events']);
    try {
      await eventually(() => rt.sse.subscriberCount >= 1, { what: 'the stream open through the proxy' });
      const lines = (): { event: string; data: { destinationId: string } }[] =>
        follow
          .out()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l));
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const r = await rt.api('POST', '/api/destinations', { body: { name: `Proxied ${i}`, platform: 'youtube', streamKey: 'proxy-test-stream-key-0123' } });
        await eventually(() => lines().some((l) => l.event === 'destination.created' && l.data.destinationId === r.json.destinationId), { what: `event ${i} through the proxy`, intervalMs: 5 });
        delays.push(Date.now() - t0);
      }
      // Buffered, an event waits until 4-8 KiB have gathered (a ping a second adds about 60 bytes):
      // many seconds. Unbuffered, it comes with the POST's own answer (creation included).
      assert.ok(Math.max(...delays) < 1000, `delays ${delays.join(', ')} ms`);
    } finally {
      follow.child.kill('SIGINT');
      await follow.exited;
    }
    for (const o of cli.outputs) assert.ok(!o.includes(ADMIN_TOKEN));
  });
});
