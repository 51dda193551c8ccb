/**
 * Serves the primary HLS output (playlist and segments the engine writes under the data dir) at
 * /hls/<stream>/<file>, with the content types hls.js and Safari expect, no caching of the playlist
 * (it changes every segment) and an hour's caching of segments (their names come from the clock, so
 * a name is never reused). Every answer, a 404 too, allows any origin: an organisation's player
 * lives on its own site, and without the header a cross-origin player sees an opaque network error
 * instead of the 404. Only plain file names are served: no path traversal.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from 'hono';
import { AppError } from '../../../../shared/errors/index.ts';

/** A player on any site may read the output (it is public: no token, by design). */
const CORS = { 'access-control-allow-origin': '*' } as const;

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
    if (parts.length !== 2 || !parts.every((p) => /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(p)) || !TYPES[ext]) throw new AppError('ROUTE_NOT_FOUND', 'No such HLS file.', {}, CORS);
    let body: Buffer;
    try {
      body = await readFile(join(root, ...parts));
    } catch {
      throw new AppError('ROUTE_NOT_FOUND', 'No such HLS file (is the contribution feed up?).', {}, CORS);
    }
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': TYPES[ext]!,
        'cache-control': ext === 'm3u8' ? 'no-cache' : 'max-age=3600',
        ...CORS,
      },
    });
  };
}
