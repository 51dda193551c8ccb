/**
 * The primary HLS output, muted and autoplaying: the browser's own HLS where it has it (Safari),
 * else hls.js (its light build), loaded only now (it is most of the page's weight, and not everyone opens a preview
 * on a phone). It (re)starts when the encoder connects, so it never retries against a feed that
 * is not there, and after a fatal error it tries again a few seconds later (the playlist appears a
 * few seconds after the encoder connects). hls.js runs without its worker: the CSP allows no blob:
 * scripts.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { input } from '../../state/live.ts';
import { hlsUrl } from './ingest-card.tsx';

type PreviewState = 'waiting' | 'loading' | 'playing' | 'failed';

/** After a fatal player error, how long before the preview starts over. */
const RETRY_MS = 4000;

export function Preview() {
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<PreviewState>('waiting');
  const [why, setWhy] = useState('');
  const [attempt, setAttempt] = useState(0);
  const connected = input.value?.connected === true;
  const since = input.value?.connectedSince ?? null;

  useEffect(() => {
    const v = video.current;
    if (!v || !connected) {
      setState('waiting');
      return;
    }
    let cancelled = false;
    let destroy: (() => void) | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    const failed = (reason: string): void => {
      if (retry || cancelled) return;
      setState('failed');
      setWhy(reason);
      retry = setTimeout(() => setAttempt((a) => a + 1), RETRY_MS);
    };
    const src = hlsUrl();
    setState('loading');
    const onPlaying = (): void => setState('playing');
    v.addEventListener('playing', onPlaying);
    const play = (): void => void v.play().catch((e: unknown) => setWhy(String(e)));
    if (v.canPlayType('application/vnd.apple.mpegurl')) {
      v.src = src;
      play();
      destroy = () => {
        v.removeAttribute('src');
        v.load();
      };
    } else {
      void import('hls.js/light').then(({ default: Hls }) => {
        if (cancelled) return;
        if (!Hls.isSupported()) {
          setState('failed');
          setWhy('This browser can play neither HLS nor Media Source Extensions.');
          return;
        }
        const hls = new Hls({
          enableWorker: false,
          liveSyncDurationCount: 3,
          manifestLoadPolicy: {
            default: { maxTimeToFirstByteMs: 10_000, maxLoadTimeMs: 20_000, timeoutRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 4000 }, errorRetry: { maxNumRetry: 6, retryDelayMs: 1000, maxRetryDelayMs: 4000 } },
          },
        });
        hls.on(Hls.Events.ERROR, (_e, d) => {
          if (d.fatal) failed(`${d.type}: ${d.details}`);
        });
        hls.on(Hls.Events.MANIFEST_PARSED, play);
        hls.loadSource(src);
        hls.attachMedia(v);
        destroy = () => hls.destroy();
      });
    }
    const onError = (): void => failed(v.error?.message || 'the browser could not play it');
    v.addEventListener('error', onError);
    return () => {
      cancelled = true;
      if (retry) clearTimeout(retry);
      v.removeEventListener('playing', onPlaying);
      v.removeEventListener('error', onError);
      destroy?.();
    };
  }, [connected, since, attempt]);

  return (
    <section class="card preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Primary output preview</h2>
      <div class="video-box">
        <video ref={video} data-testid="preview" muted autoplay playsInline aria-label="Preview of the primary HLS output (muted)" />
        {state !== 'playing' ? (
          <p class="video-note" role="status">
            {state === 'waiting' ? 'Waiting for the encoder…' : state === 'loading' ? 'Loading the preview…' : `The preview stopped (${why}); trying again…`}
          </p>
        ) : null}
      </div>
    </section>
  );
}
