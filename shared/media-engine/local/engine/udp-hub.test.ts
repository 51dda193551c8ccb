import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, it } from 'node:test';
import { waitFor } from '../fixtures/wait-for.ts';
import { TS_PACKET } from './gop-cache.ts';
import { allocateUdpPort, BATCH_BYTES, UdpHub, waitUdpBound } from './udp-hub.ts';

const open: (UdpHub | Socket)[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) {
    if (x instanceof UdpHub) await x.close();
    else x.close();
  }
});

async function receiver(): Promise<{ port: number; got: Buffer[] }> {
  const s = createSocket('udp4');
  open.push(s);
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, got };
}

/** The TS packets a receiver got, in order, whatever datagrams carried them. */
function packets(got: Buffer[]): Buffer[] {
  const all = Buffer.concat(got);
  assert.equal(all.length % TS_PACKET, 0, 'whole TS packets');
  return Array.from({ length: all.length / TS_PACKET }, (_, i) => all.subarray(i * TS_PACKET, (i + 1) * TS_PACKET));
}

/** The numbers of the test packets (see `ts()`) a receiver got, in order. */
const numbers = (got: Buffer[]): number[] => packets(got).map((p) => p.readUInt32BE(8));

async function sender(): Promise<(port: number, b: Buffer) => void> {
  const s = createSocket('udp4');
  open.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return (port, b) => s.send(b, port, '127.0.0.1');
}

async function hub(o: Partial<Parameters<typeof UdpHub.open>[0]> = {}): Promise<UdpHub> {
  const h = await UdpHub.open({ name: 'test', ...o });
  open.push(h);
  return h;
}

/** A TS packet on PID 0x100, numbered in its payload so order can be checked. */
function ts(n: number, o: { pat?: boolean; key?: boolean } = {}): Buffer {
  const p = Buffer.alloc(TS_PACKET, 0xff);
  p[0] = 0x47;
  p[1] = 0x01;
  p[2] = 0x00;
  p[3] = 0x10;
  p.writeUInt32BE(n, 8);
  return p;
}

describe('UdpHub', () => {
  it('copies every packet, in order, to every live target, batched, and measures what passes', async () => {
    const h = await hub();
    const a = await receiver();
    const b = await receiver();
    h.addTarget('a', a.port);
    h.addTarget('b', b.port);
    const send = await sender();
    for (let i = 0; i < 600; i++) send(h.port, ts(i));
    const bytes = (got: Buffer[]): number => got.reduce((n, d) => n + d.length, 0);
    await waitFor('both received everything', () => bytes(a.got) === 600 * TS_PACKET && bytes(b.got) === 600 * TS_PACKET, { timeoutMs: 3000 });
    assert.deepEqual(numbers(a.got), [...Array(600).keys()]);
    assert.deepEqual(numbers(b.got), [...Array(600).keys()]);
    assert.ok(a.got.length < 600, `batched: ${a.got.length} datagrams carried 600 packets`);
    assert.ok(Math.max(...a.got.map((d) => d.length)) <= BATCH_BYTES, 'no datagram above the batch size');
    const st = h.stats();
    assert.equal(st.packetsIn, 600);
    assert.equal(st.bytesIn, 600 * TS_PACKET);
    assert.equal(st.datagramsOut, a.got.length + b.got.length);
    assert.equal(st.targets, 2);
    assert.ok(st.recvBufferBytes >= 200_000, 'a generous receive buffer');
  });

  it('adds and removes a target without touching the others; a held target gets nothing', async () => {
    const h = await hub();
    const a = await receiver();
    const b = await receiver();
    const c = await receiver();
    h.addTarget('a', a.port);
    h.addTarget('c', c.port, { held: true });
    const send = await sender();
    send(h.port, ts(1));
    await waitFor('a got 1', () => a.got.length === 1);
    h.addTarget('b', b.port);
    h.removeTarget('a');
    h.removeTarget('a'); // idempotent
    send(h.port, ts(2));
    await waitFor('b got 2', () => b.got.length === 1);
    assert.equal(a.got.length, 1);
    assert.equal(c.got.length, 0);
    assert.equal(h.targetPort('b'), b.port);
    assert.equal(h.targetPort('a'), null);
  });

  it('replays the cached GOP to a held target, then continues live with nothing lost or repeated', async () => {
    const h = await hub({ gopCache: true });
    const send = await sender();
    const late = await receiver();
    h.addTarget('late', late.port, { held: true });
    // PAT/PMT announcing an H.264 stream on PID 0x100, then a "keyframe" (SPS at a PES start), then 50 packets.
    const pat = Buffer.alloc(TS_PACKET, 0xff);
    Buffer.from([0x47, 0x40, 0x00, 0x10, 0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xf0, 0x00, 0, 0, 0, 0]).copy(pat);
    const pmt = Buffer.alloc(TS_PACKET, 0xff);
    Buffer.from([0x47, 0x50, 0x00, 0x10, 0, 0x02, 0xb0, 18, 0, 1, 0xc1, 0, 0, 0xe1, 0x00, 0xf0, 0, 0x1b, 0xe1, 0x00, 0xf0, 0, 0, 0, 0, 0]).copy(pmt);
    const key = ts(1000);
    key[1] = 0x41; // PUSI on PID 0x100
    Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0x67]).copy(key, 12);
    send(h.port, Buffer.concat([pat, pmt]));
    send(h.port, key);
    for (let i = 1; i <= 50; i++) send(h.port, ts(1000 + i));
    await waitFor('hub saw everything', () => h.stats().packetsIn === 52);
    assert.equal(late.got.length, 0, 'held: nothing yet');
    assert.equal(h.replay('late'), 52, 'PAT+PMT datagram, keyframe, 50 more');
    for (let i = 51; i <= 60; i++) send(h.port, ts(1000 + i));
    await waitFor('replay then live', () => late.got.reduce((n, d) => n + d.length, 0) === 63 * TS_PACKET, { timeoutMs: 3000 });
    const got = packets(late.got);
    assert.deepEqual([got[0]?.[1], got[1]?.[1]], [0x40, 0x50], 'PAT and PMT first');
    assert.deepEqual(got.slice(2).map((d) => d.readUInt32BE(8)), Array.from({ length: 61 }, (_, i) => 1000 + i));
  });

  it('tells its owner when media starts and stops arriving', async () => {
    const seen: boolean[] = [];
    const h = await hub({ idleAfterMs: 300, onActivity: (a) => seen.push(a) });
    const send = await sender();
    send(h.port, ts(1));
    await waitFor('active', () => seen.length === 1);
    assert.equal(h.active, true);
    await waitFor('idle', () => seen.length === 2, { timeoutMs: 2000 });
    assert.deepEqual(seen, [true, false]);
    assert.equal(h.stats().bitrateKbps, 0);
  });

  it('waitUdpBound sees a bound loopback port, and gives up on a free one', async () => {
    const r = await receiver();
    assert.equal(await waitUdpBound(r.port, 1000), true);
    const free = await allocateUdpPort();
    const t0 = Date.now();
    assert.equal(await waitUdpBound(free, 150), false);
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(await waitUdpBound(free, 5000, () => true), false, 'cancellable');
  });
});
