/**
 * The primary HLS output keeps the rules that Safari's own player (AVFoundation) enforces and
 * hls.js forgives: those of RFC 8216 and of Apple's HLS authoring specification. No Safari runs on
 * Linux, so instead of playing it this reads a live window of the output, as Safari would (the
 * playlist reloaded every half second while the real local engine segments an encrypted SRT test
 * feed), and checks:
 *
 * - the answers: the playlist as `application/vnd.apple.mpegurl`, never cached; segments as
 *   `video/mp2t`; both readable from any origin (CORS);
 * - the playlist: `#EXTM3U` first; a version that allows its tags (decimal EXTINF needs 3); an
 *   integer target duration that no EXTINF exceeds once rounded (RFC 8216 §4.3.3.1); a media
 *   sequence; `EXT-X-INDEPENDENT-SEGMENTS`; no ENDLIST while live;
 * - across reloads (RFC 8216 §6.2.1–6.2.2): a segment keeps its media sequence number, segments
 *   leave only from the head and arrive only at the tail, the media sequence never goes back, and
 *   once segments leave, the playlist still lasts at least three target durations;
 * - a segment that left the playlist can still be fetched for its own duration plus the
 *   playlist's (RFC 8216 §6.2.2: a player that loaded the playlist just before may still ask),
 *   and older ones are deleted from the data dir;
 * - every segment read: MPEG-TS opening with a PAT, both tracks (H.264 and AAC), the video opening
 *   on a keyframe (each segment decodes alone, which INDEPENDENT-SEGMENTS promises), its length
 *   what EXTINF says, and its timestamps going on from the previous segment's (a gap or an overlap
 *   stalls Safari).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HLS_DELETE_THRESHOLD, HLS_LIST_SIZE } from '../../shared/engines/local/engine/argv.ts';
import { primaryPlaylist, startTestFeed, type TestFeed } from '../support/feed.ts';

const run = promisify(execFile);
/** How long the live window is watched (enough for segments to leave and their grace to pass). */
const WATCH_MS = 30_000;
const RELOAD_MS = 500;

interface Segment {
  uri: string;
  duration: number;
  msn: number;
}

interface Playlist {
  text: string;
  version: number | null;
  targetDuration: number;
  mediaSequence: number;
  independent: boolean;
  endList: boolean;
  segments: Segment[];
  /** Sum of the EXTINF durations. */
  duration: number;
}

/** Parses a media playlist (only what these checks need); throws on what a player would reject. */
function parsePlaylist(text: string): Playlist {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  assert.equal(lines[0], '#EXTM3U', 'a playlist starts with #EXTM3U');
  const tag = (name: string): string | null => lines.find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1) ?? null;
  const version = tag('#EXT-X-VERSION');
  const target = tag('#EXT-X-TARGETDURATION');
  assert.ok(target !== null && /^\d+$/.test(target), `EXT-X-TARGETDURATION is a decimal integer (got ${target})`);
  const seq = tag('#EXT-X-MEDIA-SEQUENCE');
  assert.ok(seq !== null && /^\d+$/.test(seq), `EXT-X-MEDIA-SEQUENCE is there (got ${seq})`);
  const segments: Segment[] = [];
  let pending: number | null = null;
  for (const l of lines) {
    if (l.startsWith('#EXTINF:')) {
      pending = Number(l.slice(8).split(',')[0]);
      assert.ok(Number.isFinite(pending) && pending > 0, `EXTINF has a duration: ${l}`);
    } else if (!l.startsWith('#')) {
      assert.ok(pending !== null, `segment ${l} has an EXTINF`);
      segments.push({ uri: l, duration: pending, msn: Number(seq) + segments.length });
      pending = null;
    }
  }
  return {
    text,
    version: version === null ? null : Number(version),
    targetDuration: Number(target),
    mediaSequence: Number(seq),
    independent: lines.includes('#EXT-X-INDEPENDENT-SEGMENTS'),
    endList: lines.includes('#EXT-X-ENDLIST'),
    segments,
    duration: segments.reduce((s, x) => s + x.duration, 0),
  };
}

/**
 * Where a segment's PAT, its PMT and its first elementary-stream packet are (packet indexes), and
 * how many programs the PAT lists. PIDs 0x10-0x1f are DVB tables (FFmpeg writes an SDT first).
 */
function tsTables(ts: Buffer): { patAt: number | null; pmtAt: number | null; firstEsAt: number | null; programs: number } {
  let patAt: number | null = null;
  let pmtAt: number | null = null;
  let firstEsAt: number | null = null;
  let pmtPid: number | null = null;
  let programs = 0;
  for (let i = 0; i * 188 < ts.length; i++) {
    const p = ts.subarray(i * 188, i * 188 + 188);
    assert.equal(p[0], 0x47, `TS sync byte at packet ${i}`);
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const start = (p[1]! & 0x40) !== 0;
    // adaptation_field_control: 1 payload only, 2 adaptation field only, 3 both (its length first).
    const afc = (p[3]! >> 4) & 3;
    const body = afc === 1 ? 4 : afc === 3 ? 5 + p[4]! : -1;
    if (pid === 0 && start && patAt === null && body > 0) {
      patAt = i;
      const sec = body + 1 + p[body]!; // pointer field
      const length = ((p[sec + 1]! & 0x0f) << 8) | p[sec + 2]!;
      // Program loop: 4 bytes each, from after the 8-byte header to before the CRC.
      for (let o = sec + 8; o < sec + 3 + length - 4; o += 4) {
        const program = (p[o]! << 8) | p[o + 1]!;
        if (program === 0) continue; // the network PID
        programs += 1;
        pmtPid = ((p[o + 2]! & 0x1f) << 8) | p[o + 3]!;
      }
    } else if (pmtPid !== null && pid === pmtPid && pmtAt === null) {
      pmtAt = i;
    } else if (pid >= 0x20 && pid !== 0x1fff && pid !== pmtPid && firstEsAt === null) {
      firstEsAt = i;
    }
  }
  return { patAt, pmtAt, firstEsAt, programs };
}

interface Probe {
  /** Codec names of every stream, sorted. */
  codecs: string[];
  /** The first video packet is a keyframe. */
  firstVideoKey: boolean;
  /** Video: the first pts, and the last pts plus one frame (s). */
  videoStart: number;
  videoEnd: number;
}

/** What ffprobe reads of one segment (fetched over HTTP, as a player would). */
async function probeSegment(url: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=index,codec_name,codec_type:packet=pts_time,duration_time,flags,stream_index', '-of', 'json', url], {
    encoding: 'utf8',
    timeout: 20_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const j = JSON.parse(stdout) as { streams: { index: number; codec_name: string; codec_type: string }[]; packets: { stream_index: number; pts_time: string; duration_time?: string; flags: string }[] };
  const videoIndex = j.streams.find((s) => s.codec_type === 'video')?.index;
  const video = j.packets.filter((p) => p.stream_index === videoIndex);
  assert.ok(video.length > 0, `${url} has video packets`);
  const pts = video.map((p) => Number(p.pts_time));
  const frame = Number(video[0]!.duration_time ?? 1 / 30);
  return {
    codecs: j.streams.map((s) => s.codec_name).sort(),
    firstVideoKey: video[0]!.flags.startsWith('K'),
    videoStart: Math.min(...pts),
    videoEnd: Math.max(...pts) + frame,
  };
}

let feed: TestFeed;
let base: string;

describe('primary HLS: what Safari requires (RFC 8216, Apple HLS authoring)', { timeout: 120_000 }, () => {
  before(async () => {
    feed = await startTestFeed({ passphrase: 'hls-conformance-passphrase-0123' });
    base = `${feed.rt.url}/hls/primary`;
    await primaryPlaylist(feed.rt);
  });

  after(async () => {
    await feed?.close();
  });

  it('serves playlist and segments with the types and headers Safari needs', async () => {
    const pl = await fetch(`${base}/index.m3u8`);
    assert.equal(pl.status, 200);
    assert.equal(pl.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    assert.equal(pl.headers.get('cache-control'), 'no-cache');
    assert.equal(pl.headers.get('access-control-allow-origin'), '*');
    const p = parsePlaylist(await pl.text());
    const seg = await fetch(`${base}/${p.segments[0]!.uri}`);
    assert.equal(seg.status, 200);
    assert.equal(seg.headers.get('content-type'), 'video/mp2t');
    assert.equal(seg.headers.get('access-control-allow-origin'), '*');
    const body = Buffer.from(await seg.arrayBuffer());
    assert.ok(body.length >= 188 && body.length % 188 === 0, `whole 188-byte TS packets (${body.length} bytes)`);
    const t = tsTables(body);
    // A player joining at this segment finds the program before the first audio or video packet.
    assert.ok(t.patAt !== null && t.pmtAt !== null && t.firstEsAt !== null, `PAT, PMT and media in the segment: ${JSON.stringify(t)}`);
    assert.ok(t.patAt < t.firstEsAt && t.pmtAt < t.firstEsAt, `PAT and PMT come before the first media packet: ${JSON.stringify(t)}`);
    assert.equal(t.programs, 1, 'a single program (RFC 8216 §3.2)');
  });

  it('keeps the live playlist rules over reloads, and removed segments stay fetchable', async () => {
    /** Every segment seen listed, as first seen: a URI keeps its number and duration. */
    const seen = new Map<string, Segment>();
    /** URI → when it left the playlist and until when it must stay available (ms since epoch). */
    const gone = new Map<string, { at: number; until: number }>();
    const checkedGone = new Map<string, number>();
    let prev: Playlist | null = null;
    let removals = 0;
    const deadline = Date.now() + WATCH_MS;
    while (Date.now() < deadline) {
      const res = await fetch(`${base}/index.m3u8`);
      assert.equal(res.status, 200);
      const p = parsePlaylist(await res.text());
      const ctx = `\n--- playlist ---\n${p.text}`;
      assert.ok(p.segments.length > 0, `segments listed${ctx}`);
      assert.ok(p.version !== null && p.version >= 3, `EXT-X-VERSION >= 3 for decimal EXTINF${ctx}`);
      assert.ok(p.independent, `EXT-X-INDEPENDENT-SEGMENTS${ctx}`);
      assert.ok(!p.endList, `no EXT-X-ENDLIST while live${ctx}`);
      for (const s of p.segments) {
        assert.ok(Math.round(s.duration) <= p.targetDuration, `EXTINF ${s.duration} of ${s.uri} rounds to at most the target duration ${p.targetDuration}${ctx}`);
        const known = seen.get(s.uri);
        if (known) {
          assert.equal(s.msn, known.msn, `${s.uri} keeps its media sequence number${ctx}`);
          assert.equal(s.duration, known.duration, `${s.uri} keeps its EXTINF${ctx}`);
        } else seen.set(s.uri, s);
        assert.ok(!gone.has(s.uri), `${s.uri} came back after it left${ctx}`);
      }
      if (prev) {
        assert.ok(p.mediaSequence >= prev.mediaSequence, `the media sequence never goes back (${prev.mediaSequence} → ${p.mediaSequence})${ctx}`);
        // What left is a prefix of the previous playlist; what stayed is in the same order; what is new is at the end.
        const uris = p.segments.map((s) => s.uri);
        const prevUris: string[] = prev.segments.map((s) => s.uri);
        const left: number = p.mediaSequence - prev.mediaSequence;
        assert.deepEqual(uris.slice(0, Math.max(0, prevUris.length - left)), prevUris.slice(left), `segments leave from the head only and keep their order${ctx}`);
        for (const u of prevUris.slice(0, left)) {
          gone.set(u, { at: Date.now(), until: Date.now() + ((seen.get(u)?.duration ?? 0) + prev.duration) * 1000 });
          removals += 1;
        }
        if (left > 0) assert.ok(p.duration >= 3 * p.targetDuration, `after a removal the playlist lasts at least 3 target durations (${p.duration} s, target ${p.targetDuration})${ctx}`);
      }
      // A removed segment within its grace: still there (checked a few times over the grace).
      for (const [u, g] of gone) {
        const now = Date.now();
        // Leave a second's margin at the end of the grace: the server's clock started at the removal it made, not when we saw it.
        if (now > g.until - 1000) continue;
        const last = checkedGone.get(u) ?? 0;
        if (now - last < 2000) continue;
        const r = await fetch(`${base}/${u}`);
        await r.arrayBuffer();
        assert.equal(r.status, 200, `${u} is still served ${((now - g.at) / 1000).toFixed(1)} s after it left the playlist (must be for ${((g.until - g.at) / 1000).toFixed(1)} s)`);
        checkedGone.set(u, now);
      }
      prev = p;
      await new Promise((r) => setTimeout(r, RELOAD_MS));
    }
    assert.ok(removals >= 2, `segments left the playlist while watched (${removals})`);
    // ... and yet the disk is pruned: what is listed, what is kept for late players, the one being written.
    const onDisk = readdirSync(join(feed.rt.dataDir, 'hls', 'primary')).filter((f) => f.endsWith('.ts'));
    assert.ok(onDisk.length <= HLS_LIST_SIZE + HLS_DELETE_THRESHOLD + 2, `old segments are deleted (${onDisk.length} on disk)`);
    // Some removed segment was checked late in its grace, not only just after it left.
    const lateChecks = [...checkedGone.entries()].filter(([u, t]) => t - gone.get(u)!.at >= 8000);
    assert.ok(lateChecks.length > 0, 'a removed segment was fetched at least 8 s after it left the playlist');
  });

  it('every segment opens on a keyframe, carries both tracks, lasts its EXTINF, and follows on from the previous one', async () => {
    const p = parsePlaylist(await (await fetch(`${base}/index.m3u8`)).text());
    assert.ok(p.segments.length >= 3, `at least 3 segments listed (${p.segments.length})`);
    let prevEnd: number | null = null;
    for (const s of p.segments.slice(-4)) {
      const probe = await probeSegment(`${base}/${s.uri}`);
      assert.deepEqual(probe.codecs, ['aac', 'h264'], `${s.uri}: H.264 and AAC`);
      assert.ok(probe.firstVideoKey, `${s.uri} opens on a keyframe`);
      const length = probe.videoEnd - probe.videoStart;
      assert.ok(Math.abs(length - s.duration) <= 0.1, `${s.uri} lasts ${length.toFixed(3)} s, EXTINF says ${s.duration}`);
      if (prevEnd !== null) assert.ok(Math.abs(probe.videoStart - prevEnd) <= 0.05, `${s.uri} starts at ${probe.videoStart.toFixed(3)} s where the previous ended (${prevEnd.toFixed(3)} s)`);
      prevEnd = probe.videoEnd;
    }
  });
});
