/**
 * Secrets are a type, not a string. A `Secret` holds a stream key, passphrase or token and refuses
 * to serialise itself: `JSON.stringify`, string interpolation and `util.inspect` all print
 * `[redacted]`. The only way to read it is `reveal()`. Making one registers
 * the value with the process-wide redaction list (shared/secrets/redact.ts), so the logger scrubs
 * it should it ever reach a log line, revealed or not.
 */
import { inspect } from 'node:util';
import { registerSecret } from './redact.ts';

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
