/** Number and time formatting for the dashboards (pure; unit-tested in Node). */

/** "850 kb/s", "3.2 Mb/s"; "–" when unknown. */
export function formatBitrate(kbps: number | null | undefined): string {
  if (kbps === null || kbps === undefined || !Number.isFinite(kbps)) return '–';
  if (kbps >= 1000) return `${(kbps / 1000).toFixed(kbps >= 10_000 ? 0 : 1)} Mb/s`;
  return `${Math.round(kbps)} kb/s`;
}

/** "42 s", "3 min 05 s", "2 h 07 min"; "–" when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Seconds from an ISO time to `now` (ms), or null. */
export function secondsSince(iso: string | null | undefined, now: number): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, (now - t) / 1000) : null;
}

/** A number with a unit, or "–". */
export function formatNumber(v: number | null | undefined, unit = '', digits = 0): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

/** The masked stream key: never more than the last four characters. */
export function maskedKey(last4: string | null | undefined): string {
  return last4 ? `•••• ${last4.slice(-4)}` : '••••';
}
