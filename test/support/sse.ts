/**
 * Test support: a minimal server-sent events client over fetch + a stream reader. It parses frames
 * as they arrive into `frames`; wait for one with `eventually`. Always `close()` it (aborts the fetch).
 */
export interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

export interface SseClient {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Resolves when the server ended the stream (or it was aborted). */
  ended: Promise<void>;
  close(): Promise<void>;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const frames: SseFrame[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';

  const parse = (block: string): void => {
    const frame: SseFrame = { event: 'message', data: '' };
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i === -1 ? line : line.slice(0, i);
      const value = i === -1 ? '' : line.slice(i + 1).replace(/^ /, '');
      any = true;
      if (field === 'event') frame.event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') frame.id = value;
    }
    if (!any) return;
    frame.data = data.join('\n');
    frames.push(frame);
  };

  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        for (let at = buffer.indexOf('\n\n'); at !== -1; at = buffer.indexOf('\n\n')) {
          parse(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
        }
      }
    } catch {
      // aborted
    }
  })();

  return {
    status: res.status,
    headers: res.headers,
    frames,
    ended,
    async close() {
      controller.abort();
      await ended;
    },
  };
}
