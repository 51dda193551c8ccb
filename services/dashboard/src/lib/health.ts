/**
 * A destination's health as the dashboards show it, derived from what actually leaves: the bytes
 * and frames counters of its live metrics, not the status alone. "Green in the UI, dead on the
 * platform" (a status that says running while nothing flows) is the complaint operators have of
 * such tools, so the rule is: never `ok` unless both counters grew between two recent samples.
 *
 * Pure: no DOM, no clock of its own (the caller passes `now`), unit-tested in Node.
 */

/** One live-metrics sample of a destination (from `destination.metrics` or GET …/metrics). */
export interface MetricsSample {
  /** When the engine measured it (ms since the epoch). */
  at: number;
  bytesSent: number | null;
  frames: number | null;
  bitrateKbps: number | null;
  fps: number | null;
}

export type HealthLevel = 'ok' | 'warn' | 'bad' | 'off';

export interface Health {
  level: HealthLevel;
  /** Short words for the dot (screen readers read it; colour alone never carries it). */
  label: string;
  /** Why, in a sentence. */
  reason: string;
}

/** A sample older than this says nothing about now (metrics arrive every 2 s while running). */
export const STALE_AFTER_MS = 7_000;

const grew = (a: number | null, b: number | null): boolean => a !== null && b !== null && b > a;

/**
 * The health of a destination in `status`, from its newest samples (oldest first) at `now`.
 * `ok` needs status running, the newest sample fresh, and bytes *and* frames grown since the one
 * before it; running without that evidence is a warning, never green.
 */
export function deriveHealth(status: string, samples: readonly MetricsSample[], now: number): Health {
  switch (status) {
    case 'error':
      return { level: 'bad', label: 'Failing', reason: 'The platform is not receiving this stream.' };
    case 'idle':
      return { level: 'off', label: 'Off', reason: 'Not streaming.' };
    case 'creating':
      return { level: 'warn', label: 'Preparing', reason: 'Its output and channel are being created.' };
    case 'starting':
      return { level: 'warn', label: 'Starting', reason: 'Connecting to the platform.' };
    case 'stopping':
      return { level: 'warn', label: 'Stopping', reason: 'Stopping.' };
    case 'deleting':
      return { level: 'warn', label: 'Removing', reason: 'Being removed with everything it used.' };
    case 'running':
      break;
    default:
      return { level: 'warn', label: status, reason: `Status ${status}.` };
  }
  const last = samples.at(-1);
  const prev = samples.at(-2);
  if (!last || !prev) return { level: 'warn', label: 'No data yet', reason: 'Running, waiting for the first measurements of what leaves.' };
  if (now - last.at > STALE_AFTER_MS) return { level: 'warn', label: 'No data', reason: `No measurement for ${Math.round((now - last.at) / 1000)} s.` };
  const bytes = grew(prev.bytesSent, last.bytesSent);
  const frames = grew(prev.frames, last.frames);
  if (bytes && frames) return { level: 'ok', label: 'Live', reason: 'Bytes and frames are leaving.' };
  if (!bytes && !frames) return { level: 'warn', label: 'Stalled', reason: 'Running, but nothing is leaving.' };
  return { level: 'warn', label: 'Stalled', reason: bytes ? 'Bytes leave, but no new frames.' : 'Frames are counted, but no bytes leave.' };
}

/** Keeps the newest `max` samples, oldest first, ignoring a sample not newer than the last one. */
export function addSample(samples: readonly MetricsSample[], s: MetricsSample, max = 60): MetricsSample[] {
  const last = samples.at(-1);
  if (last && s.at <= last.at) return samples as MetricsSample[];
  const next = [...samples, s];
  return next.length > max ? next.slice(next.length - max) : next;
}
