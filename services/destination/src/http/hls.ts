/**
 * Serves the primary HLS output (playlist and segments the engine writes under the data dir) at
 * /hls/<stream>/<file>, with the content types hls.js and Safari expect and no caching of the
 * playlist. Only plain file names are served: no path traversal.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';
import { AppError } from '../../../../shared/errors/index.ts';

const TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
};

export function serveHls(root: string) {
  return async (c: Context): Promise<Response> => {
    const rel = new URL(c.req.url).pathname.replace(/^\/hls\//, '');
    const parts = rel.split('/');
    const ext = rel.split('.').pop() ?? '';
    if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(p)) || !TYPES[ext])
      throw new AppError('ROUTE_NOT_FOUND', 'No such HLS file.');
    let body: Buffer;
    try {
      body = await readFile(join(root, ...parts));
    } catch {
      throw new AppError('ROUTE_NOT_FOUND', 'No such HLS file (is the contribution feed up?).');
    }
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': TYPES[ext]!,
        'cache-control': ext === 'm3u8' ? 'no-cache' : 'max-age=3600',
        'access-control-allow-origin': '*',
      },
    });
  };
}
