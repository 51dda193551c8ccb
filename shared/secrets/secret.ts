/**
 * Secrets are a type, not a string. A `Secret` holds a stream key, passphrase or token and refuses
 * to serialise itself: `JSON.stringify`, string interpolation and `util.inspect` all print
 * `[redacted]`. The only way to read it is `reveal()`, which also registers the value with the
 * process-wide redaction list so that the logger scrubs it should it ever reach a log line.
 */
import { inspect } from 'node:util';

const known = new Set<string>();

/** Values the logger scrubs from every line. */
export function knownSecrets(): ReadonlySet<string> {
  return known;
}

/** Registers a secret value for redaction (values shorter than 4 characters are too ambiguous to scrub). */
export function registerSecret(value: string): void {
  if (value.length >= 4) known.add(value);
}

/** Replaces every registered secret (and the given extra ones) in `text` with `***`. */
export function redactText(text: string, extra: readonly string[] = []): string {
  let out = text;
  for (const s of [...known, ...extra]) {
    if (s.length >= 4 && out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    registerSecret(value);
  }
  reveal(): string {
    return this.#value;
  }
  /** The last four characters, only when the secret is long enough that they give nothing away. */
  last4(): string | null {
    return this.#value.length >= 12 ? this.#value.slice(-4) : null;
  }
  equals(other: Secret): boolean {
    return other.#value === this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
