/**
 * Test support: a private nginx with the RTMP module, standing in for a streaming platform's RTMP
 * ingest on loopback. It runs from a temp dir (config, pid, logs, temp paths), in the foreground
 * (`daemon off; master_process off;`: one process, so `rtmp_stat` sees every stream), and offers:
 *
 * - `rtmp://127.0.0.1:<port>/live/<key>`: publishing from 127.0.0.1 only; with `rejectKeys`, an
 *   `on_publish` callback answers 403 for those keys, as a platform does for a wrong stream key;
 * - `http://127.0.0.1:<httpPort>/stat`: the nginx-rtmp statistics page (`rtmp_stat all`);
 * - with `tls`, `rtmps://127.0.0.1:<tlsPort>/live/<key>`: a TLS terminator in this process (self-signed
 *   certificate made with openssl; FFmpeg does not verify certificates by default) in front of it;
 * - `stop()` / `restart()`: take the ingest away and bring it back on the same port;
 * - `probe(app, key)`: ffprobe of what is being published; `hasPublisher(key)`: from `/stat`.
 *
 * Debian loads the module with `load_module modules/ngx_rtmp_module.so;` from
 * /etc/nginx/modules-enabled; we use the absolute path since our prefix is the temp dir.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

export interface NginxRtmpOptions {
  /** Stream keys the `on_publish` callback refuses with 403. */
  rejectKeys?: readonly string[];
  /** Also accept RTMPS, through a TLS terminator in front of nginx. */
  tls?: boolean;
  nginxPath?: string;
  ffprobePath?: string;
}

export interface ProbeResult {
  videoCodec: string | null;
  width: number | null;
  height: number | null;
  /** `r_frame_rate` evaluated, e.g. 15 for "15/1". */
  frameRate: number | null;
  audioCodec: string | null;
}

export interface PublisherInfo {
  publishing: boolean;
  bytesIn: number;
  /** Incoming bandwidth as nginx-rtmp measures it, bits/s. */
  bwIn: number;
  /** nginx-rtmp has no frame counter; the video frame rate and size of the stream's metadata, if sent. */
  width: number | null;
  height: number | null;
  frameRate: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  /** Milliseconds since the stream appeared (a republish after a disconnect starts it again). */
  uptimeMs: number | null;
  /** nginx-rtmp's id of the publishing connection: unchanged = the same TCP connection. */
  clientId: number | null;
}

/** A free TCP port on 127.0.0.1 (bound then released; tiny race, fine for tests). */
export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A free UDP port on loopback (bound, then released), e.g. for an SRT listener. A free TCP port's
 * number says nothing of UDP: another listener could hold it.
 */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function config(dir: string, rtmpPort: number, httpPort: number, rejectKeys: readonly string[]): string {
  const rejects = rejectKeys.map((k) => `      if ($arg_name = '${k.replace(/'/g, '')}') { return 403; }`).join('\n');
  return `load_module ${RTMP_MODULE};
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${httpPort};
    location /stat { rtmp_stat all; }
    # on_publish: a platform checking the stream key.
    location /auth {
${rejects}
      return 204;
    }
  }
}
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
      allow publish 127.0.0.1;
      deny publish all;
      allow play 127.0.0.1;
      # Players (ffprobe) start at a keyframe, so a probe sees the video's size at once.
      wait_key on;
      # GET, so the stream key arrives as $arg_name (the default POST puts it in the body).
      notify_method get;
      on_publish http://127.0.0.1:${httpPort}/auth;
    }
  }
}
`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function portOpen(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class NginxRtmp {
  readonly dir: string;
  #child: ChildProcess | null = null;
  #exited: Promise<void> | null = null;
  #tls: Server | null = null;
  readonly #tlsSockets = new Set<{ destroy(): void }>();
  /** Port of the RTMPS terminator (with `tls`), else null. */
  tlsPort: number | null = null;

  private constructor(
    readonly rtmpPort: number,
    readonly httpPort: number,
    private readonly opts: NginxRtmpOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'fanout-nginx-rtmp-'));
    mkdirSync(join(this.dir, 'tmp'), { recursive: true });
    writeFileSync(join(this.dir, 'nginx.conf'), config(this.dir, rtmpPort, httpPort, opts.rejectKeys ?? []));
  }

  /** Starts a private nginx-rtmp on free loopback ports and waits until both ports accept. */
  static async start(opts: NginxRtmpOptions = {}): Promise<NginxRtmp> {
    const n = new NginxRtmp(await freeTcpPort(), await freeTcpPort(), opts);
    try {
      await n.#launch();
      if (opts.tls) await n.#startTls();
    } catch (err) {
      await n.close();
      throw err;
    }
    return n;
  }

  async #startTls(): Promise<void> {
    const key = join(this.dir, 'key.pem');
    const cert = join(this.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
      const upstream = netConnect(this.rtmpPort, '127.0.0.1');
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
      };
      for (const s of [client, upstream]) {
        this.#tlsSockets.add(s);
        s.on('error', end);
        s.on('close', () => {
          this.#tlsSockets.delete(s);
          end();
        });
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address();
    this.tlsPort = typeof addr === 'object' && addr ? addr.port : null;
    this.#tls = server;
  }

  /** The RTMPS base URL of an application (with `tls`). */
  rtmpsUrl(app = 'live'): string {
    if (this.tlsPort === null) throw new Error('start NginxRtmp with { tls: true } for RTMPS');
    return `rtmps://127.0.0.1:${this.tlsPort}/${app}`;
  }

  /** The RTMP base URL of an application, e.g. `rtmp://127.0.0.1:1935/live`. */
  url(app = 'live'): string {
    return `rtmp://127.0.0.1:${this.rtmpPort}/${app}`;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  async #launch(): Promise<void> {
    const child = spawn(this.opts.nginxPath ?? 'nginx', ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', join(this.dir, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 5000;
    let exited = false;
    void this.#exited.then(() => (exited = true));
    while (!(await portOpen(this.rtmpPort)) || !(await portOpen(this.httpPort))) {
      if (exited || Date.now() > deadline) {
        this.#child = null;
        child.kill('SIGKILL');
        throw new Error(`nginx-rtmp did not start: ${stderr}\n${this.errorLog()}`);
      }
      await sleep(20);
    }
  }

  /** The tail of nginx's error log (for failure messages). */
  errorLog(lines = 30): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** Stops nginx (fast shutdown: every RTMP connection is cut, like an ingest going away). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(killer);
  }

  /** Starts it again on the same ports. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#launch();
  }

  /** Stops it and removes its temp dir. */
  async close(): Promise<void> {
    await this.stop();
    const tls = this.#tls;
    this.#tls = null;
    for (const s of this.#tlsSockets) s.destroy();
    if (tls) await new Promise<void>((resolve) => tls.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** ffprobe of `rtmp://127.0.0.1:<port>/<app>/<key>`: codec, size and frame rate of what is being published. */
  async probe(app: string, key: string, timeoutMs = 10_000): Promise<ProbeResult> {
    const url = `rtmp://127.0.0.1:${this.rtmpPort}/${app}/${key}`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        this.opts.ffprobePath ?? 'ffprobe',
        ['-v', 'error', '-rw_timeout', String(timeoutMs * 1000), '-show_entries', 'stream=codec_type,codec_name,width,height,r_frame_rate', '-of', 'json', url],
        { timeout: timeoutMs + 2000 },
        (err, stdout, stderr) => (err ? reject(new Error(`ffprobe ${app}/***: ${err.message} ${stderr}`)) : resolve(stdout)),
      );
    });
    const streams = (JSON.parse(out) as { streams?: Record<string, unknown>[] }).streams ?? [];
    const v = streams.find((s) => s['codec_type'] === 'video');
    const a = streams.find((s) => s['codec_type'] === 'audio');
    return {
      videoCodec: (v?.['codec_name'] as string | undefined) ?? null,
      width: (v?.['width'] as number | undefined) ?? null,
      height: (v?.['height'] as number | undefined) ?? null,
      frameRate: v ? rate(v['r_frame_rate'] as string | undefined) : null,
      audioCodec: (a?.['codec_name'] as string | undefined) ?? null,
    };
  }

  /** The raw `rtmp_stat` XML. */
  async stat(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/stat`);
    return res.text();
  }

  /** Whether `key` is being published (from `rtmp_stat`), with its counters; null if nginx is down. */
  async hasPublisher(key: string, app = 'live'): Promise<PublisherInfo | null> {
    if (!this.#child) return null;
    let xml: string;
    try {
      xml = await this.stat();
    } catch {
      return null;
    }
    const apps = [...xml.matchAll(/<application>([\s\S]*?)<\/application>/g)].map((m) => m[1] ?? '');
    const appXml = apps.find((a) => tag(a, 'name') === app) ?? '';
    const stream = [...appXml.matchAll(/<stream>([\s\S]*?)<\/stream>/g)].map((m) => m[1] ?? '').find((s) => tag(s, 'name') === key);
    if (!stream) return { publishing: false, bytesIn: 0, bwIn: 0, width: null, height: null, frameRate: null, videoCodec: null, audioCodec: null, uptimeMs: null, clientId: null };
    const publisher = [...stream.matchAll(/<client>([\s\S]*?)<\/client>/g)].map((m) => m[1] ?? '').find((c) => c.includes('<publishing/>'));
    const meta = /<meta>([\s\S]*?)<\/meta>/.exec(stream)?.[1] ?? '';
    const video = /<video>([\s\S]*?)<\/video>/.exec(meta)?.[1] ?? '';
    const audio = /<audio>([\s\S]*?)<\/audio>/.exec(meta)?.[1] ?? '';
    const n = (s: string | null): number | null => (s === null || s === '' ? null : Number(s));
    return {
      publishing: /<publishing\/>/.test(stream.replace(/<client>[\s\S]*?<\/client>/g, '')),
      bytesIn: n(tag(stream, 'bytes_in')) ?? 0,
      bwIn: n(tag(stream, 'bw_in')) ?? 0,
      width: n(tag(video, 'width')),
      height: n(tag(video, 'height')),
      frameRate: n(tag(video, 'frame_rate')),
      videoCodec: tag(video, 'codec'),
      audioCodec: tag(audio, 'codec'),
      uptimeMs: n(tag(stream, 'time')),
      clientId: publisher ? n(tag(publisher, 'id')) : null,
    };
  }
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? (m[1] ?? null) : null;
}

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [a, b] = r.split('/').map(Number);
  if (a === undefined || !Number.isFinite(a)) return null;
  return b ? a / b : a;
}
