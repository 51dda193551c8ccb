/**
 * Calendar periods in a time zone: where a day and a month begin and end for the people who read
 * the report (an organisation in Europe/Berlin has its own midnight), with daylight-saving days of
 * 23 and 25 hours. Intervals are split at those boundaries so a session across midnight counts on
 * both days. Uses date-fns with @date-fns/tz (IANA zones through Intl), not hand-made offsets.
 *
 * FOCUS exports use UTC months instead (AWS bills by UTC month; FOCUS date/times are UTC): pass
 * `'UTC'`.
 */
import { TZDate } from '@date-fns/tz';
import { addDays, addMonths, format, startOfDay, startOfMonth } from 'date-fns';

export interface PeriodPart {
  /** The local day, `YYYY-MM-DD`. */
  day: string;
  /** The local month, `YYYY-MM`. */
  month: string;
  startMs: number;
  endMs: number;
}

export class TimeZoneError extends Error {
  constructor(tz: string) {
    super(`unknown time zone ${JSON.stringify(tz)} (use an IANA name such as Europe/Berlin, or UTC)`);
    this.name = 'TimeZoneError';
  }
}

/** Throws TimeZoneError unless `tz` is an IANA zone this runtime knows. */
export function assertTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new TimeZoneError(tz);
  }
}

const at = (ms: number, tz: string): TZDate => new TZDate(ms, tz);

/** The local day (`YYYY-MM-DD`) an instant falls on. */
export function dayOf(ms: number, tz: string): string {
  return format(at(ms, tz), 'yyyy-MM-dd');
}

/** The local month (`YYYY-MM`) an instant falls on. */
export function monthOf(ms: number, tz: string): string {
  return format(at(ms, tz), 'yyyy-MM');
}

function parseMonth(month: string): { y: number; m: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw new RangeError(`month must be YYYY-MM, got ${JSON.stringify(month)}`);
  return { y: Number(m[1]), m: Number(m[2]) };
}

/** Start (inclusive) and end (exclusive) of a local month, as epoch ms. */
export function monthBounds(month: string, tz: string): { startMs: number; endMs: number } {
  assertTimeZone(tz);
  const { y, m } = parseMonth(month);
  const start = startOfMonth(new TZDate(y, m - 1, 1, tz));
  return { startMs: start.getTime(), endMs: addMonths(start, 1).getTime() };
}

/** Start (inclusive) and end (exclusive) of a local day, as epoch ms. */
export function dayBounds(day: string, tz: string): { startMs: number; endMs: number } {
  assertTimeZone(tz);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const start = startOfDay(new TZDate(Number(m[1]), Number(m[2]) - 1, Number(m[3]), tz));
  return { startMs: start.getTime(), endMs: addDays(start, 1).getTime() };
}

/** Splits [startMs, endMs) at the boundaries `next` gives (the start of the following period). */
function splitAt(startMs: number, endMs: number, tz: string, next: (local: TZDate) => Date): PeriodPart[] {
  assertTimeZone(tz);
  const parts: PeriodPart[] = [];
  let cursor = startMs;
  while (cursor < endMs) {
    const local = at(cursor, tz);
    const end = Math.min(next(local).getTime(), endMs);
    parts.push({ day: format(local, 'yyyy-MM-dd'), month: format(local, 'yyyy-MM'), startMs: cursor, endMs: end });
    cursor = end;
  }
  return parts;
}

/** Splits [startMs, endMs) at every local midnight. An empty interval gives no parts. */
export function splitByDay(startMs: number, endMs: number, tz: string): PeriodPart[] {
  return splitAt(startMs, endMs, tz, (local) => addDays(startOfDay(local), 1));
}

/** Splits [startMs, endMs) at every local month boundary. */
export function splitByMonth(startMs: number, endMs: number, tz: string): PeriodPart[] {
  return splitAt(startMs, endMs, tz, (local) => addMonths(startOfMonth(local), 1));
}

/** Hours in a local month (720, 744, 672, 696; ±1 in a month with a daylight-saving change). */
export function monthHours(month: string, tz: string): number {
  const b = monthBounds(month, tz);
  return (b.endMs - b.startMs) / 3_600_000;
}
