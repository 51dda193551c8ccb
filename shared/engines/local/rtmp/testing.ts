/**
 * Test and bench support for the RTMP fan-out (not used by the engine):
 *
 * - `buildFlv()`: a synthetic FLV stream (valid container, fake codec payloads) for parser and
 *   backpressure tests, where any size and timing can be made exactly;
 * - `ffmpegFlvFile()` / `liveFlv()`: real H.264/AAC FLV from FFmpeg's test sources, as a file or as
 *   a live `-re` pipe;
 * - `FakeRtmpServer`: a minimal RTMP server on loopback that accepts (or refuses) a publish in the
 *   ways real servers do, records what it receives, and can stop reading (a stalled platform),
 *   ping, and ask for acknowledgements.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { decodeAmf0, EcmaArray, encodeAmf0, type Amf0Object, type Amf0Value } from './amf0.ts';
import { ChunkReader, chunkMessage, controlMessage, MSG, type RtmpMessage, setPeerBandwidth, userControl } from './rtmp-chunk.ts';

// ------------------------------------------------------------------------------------------------
// Synthetic FLV

export interface SyntheticTag {
  type: 8 | 9 | 18;
  timestamp: number;
  data: Buffer;
}

export function flvHeader(): Buffer {
  const h = Buffer.from([0x46, 0x4c, 0x56, 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]);
  return h; // header + PreviousTagSize0
}

export function flvTag(t: SyntheticTag): Buffer {
  const b = Buffer.alloc(11 + t.data.length + 4);
  b[0] = t.type;
  b.writeUIntBE(t.data.length, 1, 3);
  b.writeUIntBE(t.timestamp & 0xffffff, 4, 3);
  b[7] = (t.timestamp >>> 24) & 0xff;
  t.data.copy(b, 11);
  b.writeUInt32BE(11 + t.data.length, 11 + t.data.length);
  return b;
}

export function buildFlv(tags: readonly SyntheticTag[]): Buffer {
  return Buffer.concat([flvHeader(), ...tags.map(flvTag)]);
}

/** Fake AVC video tag body: FrameType/CodecID, AVCPacketType, CTS, then `size` filler bytes. */
export function avcTag(kind: 'seq' | 'key' | 'inter', size = 16, fill?: number): Buffer {
  const b = Buffer.alloc(5 + size, fill ?? 0);
  b[0] = kind === 'inter' ? 0x27 : 0x17;
  b[1] = kind === 'seq' ? 0 : 1;
  b[2] = b[3] = b[4] = 0;
  return b;
}

export function aacTag(kind: 'seq' | 'raw', size = 8): Buffer {
  const b = Buffer.alloc(2 + size, 0x11);
  b[0] = 0xaf;
  b[1] = kind === 'seq' ? 0 : 1;
  return b;
}

export function metadataTag(props: Amf0Object = { width: 640, height: 360, framerate: 25 }): Buffer {
  return encodeAmf0('onMetaData', new EcmaArray(props));
}

/**
 * A synthetic stream: metadata, sequence headers, then `frames` video frames (a keyframe every
 * `gop`) of `frameBytes` each at `fps`, each followed by one audio frame.
 */
export function syntheticStream(o: { frames: number; gop: number; frameBytes: number; fps?: number; startMs?: number }): { flv: Buffer; tags: SyntheticTag[] } {
  const fps = o.fps ?? 25;
  const start = o.startMs ?? 0;
  const tags: SyntheticTag[] = [
    { type: 18, timestamp: 0, data: metadataTag() },
    { type: 9, timestamp: start, data: avcTag('seq') },
    { type: 8, timestamp: start, data: aacTag('seq', 2) },
  ];
  for (let i = 0; i < o.frames; i++) {
    const ts = start + Math.round((i * 1000) / fps);
    // The filler byte numbers the frame (mod 256) so receivers can tell frames apart.
    tags.push({ type: 9, timestamp: ts, data: avcTag(i % o.gop === 0 ? 'key' : 'inter', o.frameBytes, i & 0xff) });
    tags.push({ type: 8, timestamp: ts, data: aacTag('raw', 64) });
  }
  return { flv: buildFlv(tags), tags };
}

// ------------------------------------------------------------------------------------------------
// Real FLV from FFmpeg

export interface FlvSourceOptions {
  width?: number;
  height?: number;
  fps?: number;
  /** Video bits per second (x264 CBR-ish). Default 1 Mbps. */
  bitrate?: number;
  /** Keyframe interval, frames. Default 2 s. */
  gop?: number;
  seconds?: number;
}

function encodeArgs(o: FlvSourceOptions): string[] {
  const w = o.width ?? 640;
  const h = o.height ?? 360;
  const fps = o.fps ?? 25;
  const br = o.bitrate ?? 1_000_000;
  const gop = o.gop ?? fps * 2;
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${w}x${h}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-b:v',
    String(br),
    '-maxrate',
    String(br),
    '-bufsize',
    String(br),
    '-x264-params',
    'nal-hrd=cbr',
    '-c:a',
    'aac',
    '-b:a',
    '128k',
    '-ac',
    '2',
  ];
}

/** Encodes a test FLV file once (cached in the temp dir by its settings); returns its path. */
export async function ffmpegFlvFile(o: FlvSourceOptions = {}): Promise<string> {
  const dir = join(tmpdir(), 'fanout-rtmp-fixtures');
  mkdirSync(dir, { recursive: true });
  const seconds = o.seconds ?? 4;
  const name = `testsrc2-${o.width ?? 640}x${o.height ?? 360}-${o.fps ?? 25}fps-${o.bitrate ?? 1_000_000}bps-g${o.gop ?? (o.fps ?? 25) * 2}-${seconds}s.flv`;
  const path = join(dir, name);
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    execFile('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...encodeArgs(o), '-t', String(seconds), '-f', 'flv', tmp], { timeout: 300_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`ffmpeg: ${err.message} ${stderr}`)) : resolve(),
    );
  });
  renameSync(tmp, path);
  return path;
}

export interface LiveFlv {
  child: ChildProcess;
  stdout: Readable;
  /** The last 4000 characters of its stderr. */
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * A live FLV feed on stdout: `-re` encoding of the test sources (`input` omitted), or `-re
 * -stream_loop -1` of a file with `-c copy` (`input` given). Killed by `stop()`.
 */
export function liveFlv(o: FlvSourceOptions & { input?: string; extraArgs?: string[] } = {}): LiveFlv {
  const args = o.input
    ? ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', o.input, '-c', 'copy', ...(o.extraArgs ?? []), '-f', 'flv', 'pipe:1']
    : ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', ...encodeArgs(o), ...(o.seconds ? ['-t', String(o.seconds)] : []), ...(o.extraArgs ?? []), '-f', 'flv', 'pipe:1'];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => {
    child.once('exit', () => r());
    child.once('error', () => r());
  });
  return {
    child,
    stdout: child.stdout as Readable,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------
// A fake RTMP server

export interface FakeRtmpServerOptions {
  /** How to answer `connect`. Default accept. */
  connect?: 'accept' | 'reject' | 'close' | 'silent';
  /** How to answer `publish`. Default start. */
  publish?: 'start' | 'badname-in-use' | 'badname' | 'close';
  /** Stop reading right after Publish.Start (a stalled platform). */
  stallAfterPublish?: boolean;
  /** Close the connection this long after Publish.Start (0: at once, as Twitch refuses a key). */
  closeAfterPublishMs?: number;
  /** Do not answer the handshake at all. */
  silentHandshake?: boolean;
  /** Window Acknowledgement Size to announce. Default 5 000 000. */
  windowAckSize?: number;
  /** Stream id `createStream` returns. Default 1. */
  streamId?: number;
}

export interface FakeSession {
  socket: Socket;
  commands: Amf0Value[][];
  media: RtmpMessage[];
  /** Acknowledgement sequence numbers received. */
  acks: number[];
  /** PingResponse timestamps received. */
  pongs: number[];
  /** Window Ack Size messages received. */
  windowAcks: number[];
  /** Bytes received after the handshake. */
  bytes: number;
  publishing: boolean;
}

export class FakeRtmpServer {
  readonly sessions: FakeSession[] = [];
  #server: Server;
  port = 0;

  private constructor(readonly opts: FakeRtmpServerOptions) {
    this.#server = createServer((s) => this.#session(s));
  }

  static async start(opts: FakeRtmpServerOptions = {}): Promise<FakeRtmpServer> {
    const f = new FakeRtmpServer(opts);
    await new Promise<void>((r) => f.#server.listen(0, '127.0.0.1', () => r()));
    const a = f.#server.address();
    f.port = typeof a === 'object' && a ? a.port : 0;
    return f;
  }

  url(app = 'live'): string {
    return `rtmp://127.0.0.1:${this.port}/${app}`;
  }

  /** Sends a PingRequest on a session. */
  ping(session: FakeSession, timestamp: number): void {
    const d = Buffer.alloc(4);
    d.writeUInt32BE(timestamp, 0);
    session.socket.write(userControl(6, d, 128));
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.socket.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  #session(socket: Socket): void {
    const session: FakeSession = { socket, commands: [], media: [], acks: [], pongs: [], windowAcks: [], bytes: 0, publishing: false };
    this.sessions.push(session);
    socket.on('error', () => {});
    if (this.opts.silentHandshake) return;
    const reader = new ChunkReader();
    let hs = Buffer.alloc(0);
    let phase: 'c0c1' | 'c2' | 'chunks' = 'c0c1';
    const send = (csid: number, type: number, streamId: number, payload: Buffer): void => {
      socket.write(chunkMessage({ csid, type, streamId, timestamp: 0, payload }, 128));
    };
    const cmd = (streamId: number, ...v: Amf0Value[]): void => send(streamId === 0 ? 3 : 5, MSG.COMMAND_AMF0, streamId, encodeAmf0(...v));
    socket.on('data', (d: Buffer) => {
      if (phase !== 'chunks') {
        hs = Buffer.concat([hs, d]);
        if (phase === 'c0c1' && hs.length >= 1537) {
          const s1 = randomBytes(1536);
          s1.fill(0, 0, 8);
          socket.write(Buffer.concat([Buffer.from([3]), s1, hs.subarray(1, 1537)]));
          hs = hs.subarray(1537);
          phase = 'c2';
        }
        if (phase === 'c2' && hs.length >= 1536) {
          d = hs.subarray(1536);
          phase = 'chunks';
          if (d.length === 0) return;
        } else return;
      }
      session.bytes += d.length;
      for (const m of reader.push(d)) {
        if (m.type === MSG.ACK) session.acks.push(m.payload.readUInt32BE(0));
        else if (m.type === MSG.WINDOW_ACK_SIZE) session.windowAcks.push(m.payload.readUInt32BE(0));
        else if (m.type === MSG.USER_CONTROL && m.payload.readUInt16BE(0) === 7) session.pongs.push(m.payload.readUInt32BE(2));
        else if (m.type === MSG.AUDIO || m.type === MSG.VIDEO || m.type === MSG.DATA_AMF0) session.media.push(m);
        else if (m.type === MSG.COMMAND_AMF0) {
          const v = decodeAmf0(m.payload);
          session.commands.push(v);
          const [name, txn] = v;
          if (name === 'connect') {
            const mode = this.opts.connect ?? 'accept';
            if (mode === 'close') socket.destroy();
            else if (mode === 'reject') cmd(0, '_error', txn, null, { level: 'error', code: 'NetConnection.Connect.Rejected', description: 'Connection failed: Application rejected connection.' });
            else if (mode === 'accept') {
              socket.write(controlMessage(MSG.WINDOW_ACK_SIZE, this.opts.windowAckSize ?? 5_000_000));
              socket.write(setPeerBandwidth(5_000_000, 2));
              cmd(0, '_result', txn, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, { level: 'status', code: 'NetConnection.Connect.Success', description: 'Connection succeeded.' });
            }
          } else if (name === 'createStream') cmd(0, '_result', txn, null, this.opts.streamId ?? 1);
          else if (name === 'publish') {
            const mode = this.opts.publish ?? 'start';
            const sid = m.streamId;
            if (mode === 'close') socket.destroy();
            else if (mode === 'badname-in-use') cmd(sid, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'Already publishing' });
            else if (mode === 'badname') cmd(sid, 'onStatus', 0, null, { level: 'error', code: 'NetStream.Publish.BadName', description: 'Invalid stream name' });
            else {
              cmd(sid, 'onStatus', 0, null, { level: 'status', code: 'NetStream.Publish.Start', description: 'Start publishing' });
              session.publishing = true;
              if (this.opts.stallAfterPublish) socket.pause();
              const closeAfter = this.opts.closeAfterPublishMs;
              if (closeAfter !== undefined) setTimeout(() => socket.destroy(), closeAfter).unref();
            }
          }
        }
      }
    });
  }
}
