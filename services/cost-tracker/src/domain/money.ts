/**
 * Money as integer micro-units (1 USD = 1 000 000 micros). Every cost line is rounded once, to the
 * micro, when it is priced; sums of lines are then exact, so a daily summary adds up to the same
 * total as the sessions it came from and a split never loses or invents a micro-dollar. Prices and
 * quantities stay plain numbers (a rate is a published decimal, a quantity a measurement).
 */

export const MICROS_PER_UNIT = 1_000_000;

/** Micros of `quantity × unitPrice`, rounded half away from zero to the micro. */
export function costMicros(quantity: number, unitPrice: number): number {
  const raw = quantity * unitPrice * MICROS_PER_UNIT;
  // Guard binary noise (0.4212 × 1e6 = 421199.99999999994) before rounding.
  return Math.sign(raw) * Math.round(Math.abs(raw) + 1e-6);
}

/** The decimal form finance tools read: six places, no exponent (`"0.449280"`). */
export function formatMicros(micros: number, places = 6): string {
  if (!Number.isSafeInteger(micros)) throw new RangeError(`not a whole number of micros: ${micros}`);
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_UNIT);
  const frac = String(abs % MICROS_PER_UNIT).padStart(6, '0');
  if (places === 6) return `${sign}${whole}.${frac}`;
  // Fewer places: round the micros first (half up), then print.
  const step = 10 ** (6 - places);
  const rounded = Math.round(abs / step) * step;
  const w = Math.floor(rounded / MICROS_PER_UNIT);
  const f = String(rounded % MICROS_PER_UNIT)
    .padStart(6, '0')
    .slice(0, places);
  return places === 0 ? `${sign}${w}` : `${sign}${w}.${f}`;
}

/** Micros as a number of currency units (for display and JSON figures). */
export function microsToUnits(micros: number): number {
  return micros / MICROS_PER_UNIT;
}

/** Currency units (a rate or budget typed by a person) as micros. */
export function unitsToMicros(units: number): number {
  return costMicros(1, units);
}

/**
 * Splits `total` micros over parts in proportion to `weights`, exactly: every part gets the
 * floor of its share and the remainder goes to the largest remainders (ties: the later part), so
 * the parts always add up to `total`.
 */
export function splitMicros(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum <= 0) return weights.map((_, i) => (i === weights.length - 1 ? total : 0));
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map((x) => Math.floor(x));
  let rest = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || b.i - a.i);
  for (let k = 0; rest > 0; k = (k + 1) % order.length, rest--) parts[order[k]!.i]! += 1;
  return parts;
}
