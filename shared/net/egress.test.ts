/**
 * The egress policy, table-driven: every range it refuses or allows, with and without
 * FANOUT_EGRESS_ALLOW_PRIVATE and the allow-list; names by what they resolve to (an injected
 * resolver: no DNS), and the `lookup` given to net.connect, checked by really connecting on loopback.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { classifyAddress, EgressPolicy, EgressRefusedError, isValidAllowEntry, type HostResolver } from './egress.ts';

const table: [address: string, reason: ReturnType<typeof classifyAddress>][] = [
  ['8.8.8.8', null],
  ['2606:4700::1111', null],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['fd00:ec2::254', 'metadata'],
  ['100.100.100.200', 'metadata'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['169.254.1.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['224.0.0.1', 'multicast'],
  ['255.255.255.255', 'multicast'],
  ['ff02::1', 'multicast'],
  ['127.0.0.1', 'loopback'],
  ['127.8.9.10', 'loopback'],
  ['::1', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['2002:7f00:1::', 'loopback'],
  ['10.0.0.1', 'private'],
  ['172.16.5.4', 'private'],
  ['192.168.1.1', 'private'],
  ['100.64.0.1', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['0.0.0.0', 'non-public'],
  ['0.1.2.3', 'non-public'],
  ['::', 'non-public'],
  ['192.0.2.10', 'non-public'],
  ['198.18.0.1', 'non-public'],
  ['2001:db8::1', 'non-public'],
  ['not an address', 'non-public'],
];

describe('classifyAddress', () => {
  for (const [address, reason] of table) test(`${address} → ${reason ?? 'public'}`, () => assert.equal(classifyAddress(address), reason));
});

const closed = new EgressPolicy({ allowPrivate: false });
const open = new EgressPolicy({ allowPrivate: true });

describe('EgressPolicy.checkAddress', () => {
  test('link-local, metadata and multicast are refused even with private ranges allowed, and no setting opens them', () => {
    for (const a of ['169.254.169.254', 'fd00:ec2::254', 'fe80::1', '169.254.10.10', '239.1.1.1']) {
      for (const p of [closed, open, new EgressPolicy({ allowPrivate: true, allowHosts: [a, '169.254.0.0/16', 'fd00::/8'] })]) {
        const r = p.checkAddress(a, a);
        assert.ok(r, a);
        assert.equal(r.setting, null, 'nothing can allow it');
        assert.match(r.message, /never connects/);
        // One sentence that reads: the host, then why (it once said "may not connect to 169.254.169.254 is a ...").
        assert.ok(r.message.startsWith(`Fanout may not connect to ${a}: it is `), r.message);
      }
    }
  });

  test('loopback and private ranges: refused by default, with the setting that would allow them; allowed with FANOUT_EGRESS_ALLOW_PRIVATE', () => {
    for (const a of ['127.0.0.1', '::1', '10.1.2.3', '192.168.0.10', '100.64.1.1', 'fd12::1', '0.0.0.0']) {
      const r = closed.checkAddress(a, a);
      assert.ok(r, a);
      assert.match(r.setting ?? '', /FANOUT_EGRESS_ALLOW_PRIVATE=on/);
      assert.ok(r.message.includes(a), r.message);
      assert.equal(open.checkAddress(a, a), null, a);
    }
  });

  test('the allow-list opens names, addresses and ranges (not others)', () => {
    const p = new EgressPolicy({ allowPrivate: false, allowHosts: ['rtmp.corp.example', '10.9.0.0/16', '192.168.7.7', ' OBS.Local. '] });
    assert.equal(p.checkAddress('rtmp.corp.example', '10.1.1.1'), null, 'a listed name: whatever it resolves to (but link-local)');
    assert.equal(p.checkAddress('RTMP.corp.example.', '10.1.1.1'), null, 'names compare case-insensitively, trailing dot ignored');
    assert.equal(p.checkAddress('obs.local', '192.168.1.2'), null);
    assert.equal(p.checkAddress('other.example', '10.9.4.4'), null, 'a listed range');
    assert.equal(p.checkAddress('192.168.7.7', '192.168.7.7'), null, 'a listed address');
    assert.ok(p.checkAddress('other.example', '10.8.4.4'), 'outside the listed range');
    assert.ok(p.checkAddress('192.168.7.8', '192.168.7.8'));
    assert.ok(p.checkAddress('rtmp.corp.example', '169.254.169.254'), 'the list never opens metadata');
  });

  test('public addresses pass', () => {
    assert.equal(closed.checkAddress('a.rtmp.youtube.com', '142.250.1.1'), null);
    assert.equal(closed.checkAddress('x', '2a00:1450:4001::1'), null);
  });
});

describe('EgressPolicy.check (names resolved by an injected resolver)', () => {
  const dns: Record<string, string[]> = {
    'public.example': ['8.8.4.4'],
    'mixed.example': ['8.8.4.4', '10.0.0.5'],
    'rebind.example': ['169.254.169.254'],
  };
  const resolve: HostResolver = async (host) => {
    const a = dns[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  test('every address a name resolves to must pass', async () => {
    assert.equal(await closed.check('public.example', resolve), null);
    const r = await closed.check('mixed.example', resolve);
    assert.equal(r?.address, '10.0.0.5');
    assert.match(r!.message, /^Fanout may not connect to mixed\.example: it resolves to 10\.0\.0\.5, a private-network address; allowed only with /);
    assert.equal((await closed.check('rebind.example', resolve))?.reason, 'metadata');
  });

  test('metadata names are refused without resolving them', async () => {
    let asked = 0;
    const counting: HostResolver = async (h) => {
      asked++;
      return resolve(h);
    };
    assert.equal((await open.check('metadata.google.internal', counting))?.reason, 'metadata');
    assert.equal((await open.check('METADATA.google.internal.', counting))?.reason, 'metadata');
    assert.equal(asked, 0);
  });

  test('IP literals are checked directly, brackets or not', async () => {
    const never: HostResolver = async () => assert.fail('a literal is not resolved');
    assert.equal((await closed.check('[::1]', never))?.reason, 'loopback');
    assert.equal((await closed.check('127.0.0.1', never))?.reason, 'loopback');
    assert.equal(await open.check('[::1]', never), null);
  });

  test('resolution errors reach the caller as they are', async () => {
    await assert.rejects(closed.check('nx.example', resolve), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
  });
});

describe('EgressPolicy.lookup, as net.connect uses it', () => {
  async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
    const server = createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      return await fn((server.address() as AddressInfo).port);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }
  const attempt = (port: number, host: string, lookup: ReturnType<EgressPolicy['lookup']>) =>
    new Promise<'connected' | Error>((resolve) => {
      const s = connect({ host, port, lookup });
      s.once('connect', () => {
        s.destroy();
        resolve('connected');
      });
      s.once('error', (err) => resolve(err));
    });
  // A name that resolves to loopback, the way a DNS rebinding attack answers the second time.
  const toLoopback: HostResolver = async () => [{ address: '127.0.0.1', family: 4 }];

  test('refuses, before any connection, a name that resolves to a refused address', async () => {
    await withServer(async (port) => {
      const out = await attempt(port, 'rebound.example', closed.lookup(toLoopback));
      assert.ok(out instanceof EgressRefusedError, String(out));
      assert.equal(out.code, 'EGRESS_REFUSED');
      assert.equal(out.refusal.reason, 'loopback');
    });
  });

  test('lets through what the policy allows (the same name with private ranges allowed)', async () => {
    await withServer(async (port) => assert.equal(await attempt(port, 'rebound.example', open.lookup(toLoopback)), 'connected'));
  });

  test('metadata names never resolve', async () => {
    await withServer(async (port) => {
      const out = await attempt(port, 'metadata.google.internal', open.lookup(toLoopback));
      assert.ok(out instanceof EgressRefusedError && out.refusal.reason === 'metadata', String(out));
    });
  });
});

test('allow-list entries: names, addresses and CIDR ranges are valid; other text is not', () => {
  for (const ok of ['rtmp.example.com', 'localhost', '10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8']) assert.ok(isValidAllowEntry(ok), ok);
  for (const bad of ['http://x', 'a b', '10.0.0.0/99', '', '-bad-.example']) assert.ok(!isValidAllowEntry(bad), bad);
});
