/**
 * The FLV parser on hand-built tags and on real FFmpeg output (tag counts checked against ffprobe).
 *
 * @media FFmpeg, ffprobe (npm run test:unit leaves this file out)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FlvParseError, FlvParser, type FlvTag } from './flv-parser.ts';
import { aacTag, avcTag, buildFlv, ffmpegFlvFile, metadataTag, syntheticStream } from './testing.ts';

function parseAll(flv: Buffer, cut: (i: number) => number): { parser: FlvParser; tags: FlvTag[] } {
  const parser = new FlvParser();
  const tags: FlvTag[] = [];
  let at = 0;
  for (let i = 0; at < flv.length; i++) {
    const n = Math.max(1, cut(i));
    tags.push(...parser.push(flv.subarray(at, at + n)));
    at += n;
  }
  return { parser, tags };
}

const summary = (t: FlvTag): string => `${t.type}@${t.timestamp}:${t.data.length}${t.keyframe ? 'K' : ''}${t.sequenceHeader ? 'S' : ''}${t.metadata ? 'M' : ''}:${t.data.toString('hex').slice(0, 40)}`;

describe('FlvParser', () => {
  it('demuxes the same tags whatever the chunking (1 byte, random, whole)', () => {
    const { flv, tags } = syntheticStream({ frames: 40, gop: 10, frameBytes: 300 });
    const whole = parseAll(flv, () => flv.length);
    assert.equal(whole.tags.length, tags.length);
    let seed = 7;
    const random = parseAll(flv, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % 700);
    });
    const bytes = parseAll(flv, () => 1);
    for (const r of [random, bytes]) assert.deepEqual(r.tags.map(summary), whole.tags.map(summary));
    assert.deepEqual(
      whole.tags.map((t) => [t.type, t.timestamp, Buffer.compare(t.data, tags[whole.tags.indexOf(t)]!.data)]),
      tags.map((t) => [t.type, t.timestamp, 0]),
    );
    const p = whole.parser;
    assert.deepEqual(p.header, { version: 1, hasAudio: true, hasVideo: true });
    assert.equal(p.videoTags, 41);
    assert.equal(p.audioTags, 41);
    assert.equal(p.keyframes, 4);
    assert.equal(p.videoSequenceHeader?.sequenceHeader, true);
    assert.equal(p.audioSequenceHeader?.sequenceHeader, true);
    assert.deepEqual(p.metadata(), { width: 640, height: 360, framerate: 25 });
    assert.equal(p.pendingBytes, 0);
  });

  it('reads the extended timestamp byte and keeps tags inside a chunk as views', () => {
    const flv = buildFlv([
      { type: 9, timestamp: 0x12345678, data: avcTag('key', 4) },
      { type: 8, timestamp: 0xfffffe, data: aacTag('raw') },
      { type: 18, timestamp: 0, data: metadataTag({ a: 1 }) },
    ]);
    const p = new FlvParser();
    const tags = p.push(flv);
    assert.deepEqual(
      tags.map((t) => t.timestamp),
      [0x12345678, 0xfffffe, 0],
    );
    assert.equal(tags[0]!.data.buffer, flv.buffer);
    assert.equal(tags[0]!.keyframe, true);
    assert.equal(tags[0]!.sequenceHeader, false);
    assert.equal(tags[2]!.metadata, true);
  });

  it('refuses what is not FLV, and a stream that loses sync', () => {
    assert.throws(() => new FlvParser().push(Buffer.from('GIF89a-not-flv')), FlvParseError);
    const flv = buildFlv([{ type: 9, timestamp: 0, data: avcTag('key') }]);
    flv[13] = 0x42; // first tag's type
    assert.throws(() => new FlvParser().push(flv), /unknown tag type 2/);
  });

  it('parses FFmpeg output: tag counts match ffprobe, keyframes every GOP, both sequence headers, onMetaData', async () => {
    const path = await ffmpegFlvFile({ seconds: 4, fps: 25, gop: 25 });
    const flv = readFileSync(path);
    const { parser, tags } = parseAll(flv, (i) => 1000 + ((i * 7919) % 65536));
    const probe = await new Promise<string>((resolve, reject) => execFile('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_type,nb_read_packets', '-of', 'json', path], (e, o) => (e ? reject(e) : resolve(o))));
    const streams = (JSON.parse(probe) as { streams: { codec_type: string; nb_read_packets: string }[] }).streams;
    const packets = (kind: string): number => Number(streams.find((s) => s.codec_type === kind)?.nb_read_packets);
    // FFmpeg ends the file with an AVC end-of-sequence tag (AVCPacketType 2), not a packet.
    const eos = tags.filter((t) => t.type === 9 && t.data[1] === 2);
    assert.equal(eos.length, 1);
    const video = tags.filter((t) => t.type === 9 && t.data[1] === 1);
    const audio = tags.filter((t) => t.type === 8 && !t.sequenceHeader);
    assert.equal(video.length, packets('video'));
    assert.equal(audio.length, packets('audio'));
    assert.equal(video.length, 100);
    assert.deepEqual(
      video.flatMap((t, i) => (t.keyframe ? [i] : [])),
      [0, 25, 50, 75],
    );
    assert.equal(parser.keyframes, 4);
    assert.equal(tags[0]!.metadata, true);
    assert.ok(parser.videoSequenceHeader && parser.audioSequenceHeader);
    assert.equal(parser.videoSequenceHeader.data[0], 0x17);
    assert.equal(parser.audioSequenceHeader.data[0]! >> 4, 10);
    const meta = parser.metadata();
    assert.equal(meta?.['width'], 640);
    assert.equal(meta?.['height'], 360);
    assert.equal(meta?.['framerate'], 25);
    // Timestamps never go back within a track.
    for (const track of [video, audio]) for (let i = 1; i < track.length; i++) assert.ok(track[i]!.timestamp >= track[i - 1]!.timestamp);
  });
});
