import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkReader, chunkedLength, chunkMessage, controlMessage, MSG, OutboundBatch, OutboundMessage, type RtmpMessage } from './rtmp-chunk.ts';

const payload = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) & 0xff));

describe('rtmp chunks', () => {
  it('chunks with fmt 0 then fmt 3, and reads back whatever the chunk size, csid and timestamp', () => {
    for (const chunkSize of [128, 4096, 60_000]) {
      for (const csid of [3, 6, 63, 64, 319, 320, 1000]) {
        for (const timestamp of [0, 40, 0xfffffe, 0xffffff, 0x1_0000_00 + 5, 0xffffffff]) {
          for (const n of [0, 1, 127, 128, 129, 4096, 10_000]) {
            const m: RtmpMessage = { csid, type: MSG.VIDEO, streamId: 1, timestamp, payload: payload(n) };
            const bytes = chunkMessage(m, chunkSize);
            assert.equal(bytes.length, chunkedLength(n, timestamp, csid, chunkSize));
            const r = new ChunkReader();
            r.chunkSize = chunkSize;
            const out = r.push(bytes);
            assert.equal(out.length, 1, `chunkSize ${chunkSize} csid ${csid} ts ${timestamp} n ${n}`);
            assert.deepEqual({ ...out[0]!, payload: out[0]!.payload.toString('hex') }, { ...m, payload: m.payload.toString('hex') });
          }
        }
      }
    }
  });

  it('writes the basic header and fmt 0 header as the spec says', () => {
    const b = chunkMessage({ csid: 6, type: MSG.VIDEO, streamId: 1, timestamp: 0x010203, payload: payload(200) }, 128);
    assert.equal(b[0], 0x06);
    assert.deepEqual([...b.subarray(1, 12)], [0x01, 0x02, 0x03, 0, 0, 200, 9, 1, 0, 0, 0]);
    assert.equal(b[12 + 128], 0xc6); // fmt 3, csid 6
    assert.equal(b.length, 12 + 200 + 1);
  });

  it('reassembles interleaved chunk streams fed a byte at a time, and applies Set Chunk Size at once', () => {
    const a = chunkMessage({ csid: 4, type: MSG.AUDIO, streamId: 1, timestamp: 10, payload: payload(300) }, 128);
    const v = chunkMessage({ csid: 6, type: MSG.VIDEO, streamId: 1, timestamp: 20, payload: payload(300) }, 128);
    // Interleave: a's first chunk, v's first chunk, a's rest, v's rest.
    const aFirst = 12 + 128;
    const vFirst = 12 + 128;
    const stream = Buffer.concat([
      a.subarray(0, aFirst),
      v.subarray(0, vFirst),
      a.subarray(aFirst),
      v.subarray(vFirst),
      controlMessage(MSG.SET_CHUNK_SIZE, 4096),
      chunkMessage({ csid: 3, type: MSG.COMMAND_AMF0, streamId: 0, timestamp: 0, payload: payload(1000) }, 4096),
    ]);
    const r = new ChunkReader();
    const out: RtmpMessage[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...r.push(stream.subarray(i, i + 1)));
    assert.deepEqual(
      out.map((m) => [m.csid, m.type, m.timestamp, m.payload.length]),
      [
        [4, 8, 10, 300],
        [6, 9, 20, 300],
        [2, 1, 0, 4],
        [3, 20, 0, 1000],
      ],
    );
    assert.equal(r.chunkSize, 4096);
  });

  it('reads delta headers (fmt 1, 2, 3) as servers send them', () => {
    const r = new ChunkReader();
    const fmt0 = Buffer.from([0x03, 0, 0, 100, 0, 0, 2, 20, 0, 0, 0, 0, 0xaa, 0xbb]);
    const fmt1 = Buffer.from([0x43, 0, 0, 5, 0, 0, 1, 20, 0xcc]);
    const fmt2 = Buffer.from([0x83, 0, 0, 7, 0xdd]);
    const fmt3 = Buffer.from([0xc3, 0xee]);
    const out = r.push(Buffer.concat([fmt0, fmt1, fmt2, fmt3]));
    assert.deepEqual(
      out.map((m) => [m.timestamp, m.payload.toString('hex')]),
      [
        [100, 'aabb'],
        [105, 'cc'],
        [112, 'dd'],
        [119, 'ee'],
      ],
    );
  });

  it('OutboundMessage chunks once per (stream id, chunk size) and hands out the same Buffer', () => {
    const m = new OutboundMessage(MSG.VIDEO, 1234, payload(10_000), 6, true, false);
    const a = m.chunked(1, 4096);
    assert.equal(m.chunked(1, 4096), a);
    assert.equal(m.chunkings, 1);
    const b = m.chunked(2, 4096);
    const c = m.chunked(1, 128);
    assert.notEqual(b, a);
    assert.notEqual(c, a);
    assert.equal(m.chunked(2, 4096), b);
    assert.equal(m.chunked(1, 128), c);
    assert.equal(m.chunkings, 3);
    assert.deepEqual(a, chunkMessage({ csid: 6, type: MSG.VIDEO, streamId: 1, timestamp: 1234, payload: payload(10_000) }, 4096));
  });

  it('OutboundBatch concatenates the chunked messages once and counts the frames', () => {
    const msgs = [
      new OutboundMessage(MSG.VIDEO, 0, payload(50), 6, false, true), // sequence header
      new OutboundMessage(MSG.VIDEO, 40, payload(9000), 6, true, false),
      new OutboundMessage(MSG.AUDIO, 42, payload(300), 4, false, false),
      new OutboundMessage(MSG.VIDEO, 80, payload(2000), 6, false, false),
    ];
    const batch = new OutboundBatch(msgs);
    const bytes = batch.chunked(1, 4096);
    assert.equal(batch.chunked(1, 4096), bytes);
    assert.deepEqual(bytes, Buffer.concat(msgs.map((m) => m.chunked(1, 4096))));
    assert.deepEqual(
      msgs.map((m) => m.chunkings),
      [1, 1, 1, 1],
    );
    assert.deepEqual([batch.videoFrames, batch.keyframes, batch.audioFrames, batch.firstTs, batch.lastTs], [2, 1, 1, 40, 80]);
    const r = new ChunkReader();
    r.chunkSize = 4096;
    assert.deepEqual(
      r.push(bytes).map((m) => [m.type, m.timestamp, m.payload.length]),
      [
        [9, 0, 50],
        [9, 40, 9000],
        [8, 42, 300],
        [9, 80, 2000],
      ],
    );
  });
});
