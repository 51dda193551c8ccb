/**
 * Bench support: the baseline fan-out, nginx-rtmp's own `push` directive. One nginx (one process:
 * `master_process off`) on loopback with two applications:
 *
 * - `live`: every stream published to it is relayed by `push` to `<sinkUrl>/<prefix><n>`, n = 0..N-1;
 * - `one`: the same with one push, to `<sinkUrl>/<prefix>one` (with `live`, the cost of each push
 *   beyond the first: the slope);
 * - `nopush`: the same without pushes (what receiving the feed alone costs).
 *
 * Its pid is the one process whose CPU time is measured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort, portOpen, RTMP_MODULE } from '../support/nginx-rtmp.ts';

export class NginxPush {
  #child: ChildProcess;
  #exited: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly port: number,
    child: ChildProcess,
  ) {
    this.#child = child;
    this.#exited = new Promise((r) => {
      child.once('exit', () => r());
      child.once('error', () => r());
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** `rtmp://127.0.0.1:<port>/<app>`. */
  url(app: 'live' | 'one' | 'nopush'): string {
    return `rtmp://127.0.0.1:${this.port}/${app}`;
  }

  static async start(o: { sinkUrl: string; count: number; prefix: string }): Promise<NginxPush> {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-bench-nginx-push-'));
    mkdirSync(join(dir, 'tmp'));
    const port = await freeTcpPort();
    const pushes = Array.from({ length: o.count }, (_, n) => `      push ${o.sinkUrl.replace(/\/+$/, '')}/${o.prefix}${n};`).join('\n');
    writeFileSync(
      join(dir, 'nginx.conf'),
      `load_module ${RTMP_MODULE};
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
rtmp {
  server {
    listen 127.0.0.1:${port};
    chunk_size 4096;
    application live {
      live on;
      record off;
${pushes}
    }
    application one {
      live on;
      record off;
      push ${o.sinkUrl.replace(/\/+$/, '')}/${o.prefix}one;
    }
    application nopush {
      live on;
      record off;
    }
  }
}
`,
    );
    const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => (stderr += err.message));
    const n = new NginxPush(dir, port, child);
    const deadline = Date.now() + 5000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await n.close();
        throw new Error(`nginx (push) did not start: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return n;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    const child = this.#child;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await this.#exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
