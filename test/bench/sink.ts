/**
 * The benches' sink: what nginx-rtmp's stat page (`/stat`) says of each stream of its `live`
 * application, and a poll until given streams are live there (publishing, bytes growing).
 */
import { eventually } from '../support/local.ts';

export interface SinkStream {
  /** A client is publishing the stream. */
  publishing: boolean;
  bytesIn: number;
  /** The publishing connection's id: a new one is a reconnect. */
  clientId: number | null;
}

function tag(xml: string, name: string): string | null {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? (m[1] ?? null) : null;
}

/** Every stream of a stat page, by name. */
export function parseSinkStreams(xml: string): Map<string, SinkStream> {
  const out = new Map<string, SinkStream>();
  for (const st of xml.matchAll(/<stream>([\s\S]*?)<\/stream>/g)) {
    const s = st[1] ?? '';
    const name = tag(s, 'name');
    if (!name) continue;
    const publisher = [...s.matchAll(/<client>([\s\S]*?)<\/client>/g)].map((m) => m[1] ?? '').find((c) => c.includes('<publishing/>'));
    out.set(name, {
      publishing: /<publishing\/>/.test(s.replace(/<client>[\s\S]*?<\/client>/g, '')),
      bytesIn: Number(tag(s, 'bytes_in') ?? 0),
      clientId: publisher ? Number(tag(publisher, 'id')) : null,
    });
  }
  return out;
}

/**
 * Resolves once every key is publishing at the sink with bytes_in growing between two reads of
 * `read`; the error names the streams that are not live.
 */
export async function untilLive(read: () => Promise<Map<string, SinkStream>>, keys: string[], o: { timeoutMs: number; intervalMs: number }): Promise<void> {
  const last = new Map<string, number>();
  const live = new Set<string>();
  await eventually(
    async () => {
      const s = await read();
      for (const k of keys) {
        const i = s.get(k);
        if (!i?.publishing) continue;
        const prev = last.get(k);
        if (prev !== undefined && i.bytesIn > prev) live.add(k);
        last.set(k, i.bytesIn);
      }
      return live.size === keys.length;
    },
    { ...o, what: `${keys.length} streams live at the sink` },
  ).catch((err: Error) => {
    const missing = keys.filter((k) => !live.has(k));
    throw new Error(`${err.message}; live: ${live.size}/${keys.length}; not live: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  });
}
