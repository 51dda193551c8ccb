/**
 * EventBridge event-pattern matching (content filtering) for the local runtime.
 *
 * No maintained npm package implements this (AWS's own matcher, Event Ruler, is Java), so this is
 * a small, self-contained implementation of the documented semantics:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
 *
 * A pattern is matched against the whole event (`source`, `detail-type`, `account`, `detail`, ...):
 *  - every key of the pattern must match (AND); a key whose value is an object descends into the
 *    event; a key whose value is an array is a leaf: it matches when ANY of its entries matches ANY of
 *    the event's values there (an event array matches when any element matches);
 *  - leaf entries: exact strings, numbers (compared numerically), booleans and null, or one of the
 *    operators `prefix`, `suffix`, `anything-but` (value, list, `{prefix}`, `{suffix}`,
 *    `{equals-ignore-case}`, `{wildcard}`), `exists`, `numeric`, `equals-ignore-case`, `wildcard`,
 *    `cidr`;
 *  - `$or: [pattern, ...]` at any object level matches when any alternative matches.
 *
 * Known simplification: when a nested pattern is matched against an array of objects, the pattern
 * must match one element as a whole (Event Ruler's "array consistency"); `exists: false` inside such
 * a pattern therefore means "some element lacks the field" rather than "no element has it".
 *
 * An invalid pattern throws `EventPatternError`; `validatePattern` checks one up front (the loader
 * of serverless.yml does, so a broken rule fails at start, not on the first event).
 */

export type EventPattern = Record<string, unknown>;

export class EventPatternError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`invalid event pattern at ${path || '<root>'}: ${message}`);
    this.name = 'EventPatternError';
  }
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `event` matches `pattern`. Throws `EventPatternError` when the pattern is invalid. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (!isPlainObject(pattern)) throw new EventPatternError('a pattern must be a JSON object', '');
  return matchObject(pattern, event, '');
}

/** Throws `EventPatternError` when `pattern` is not a valid EventBridge event pattern. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  if (!isPlainObject(pattern)) throw new EventPatternError('a pattern must be a JSON object', '');
  validateObject(pattern, '');
}

function matchObject(pattern: Record<string, unknown>, value: unknown, path: string): boolean {
  // Descending into something that is not an object: every field is absent there.
  const obj = isPlainObject(value) ? value : undefined;
  for (const [key, sub] of Object.entries(pattern)) {
    const subPath = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isPlainObject)) {
        throw new EventPatternError('$or takes an array of at least two patterns', subPath);
      }
      if (!sub.some((alt) => matchObject(alt, value, subPath))) return false;
      continue;
    }
    const fieldPresent = obj !== undefined && Object.hasOwn(obj, key);
    const field = fieldPresent ? obj[key] : undefined;
    if (Array.isArray(sub)) {
      if (!matchLeaf(sub, fieldPresent, field, subPath)) return false;
    } else if (isPlainObject(sub)) {
      if (Array.isArray(field)) {
        const objects = field.filter(isPlainObject);
        if (objects.length === 0) {
          if (!matchObject(sub, undefined, subPath)) return false;
        } else if (!objects.some((element) => matchObject(sub, element, subPath))) {
          return false;
        }
      } else if (!matchObject(sub, field, subPath)) {
        return false;
      }
    } else {
      throw new EventPatternError('a pattern value must be an array of matchers or a nested object', subPath);
    }
  }
  return true;
}

/** The leaf (non-object) values an event field contributes: arrays are flattened, objects are not leaves. */
function leafValues(field: unknown): Json[] {
  if (field === undefined) return [];
  if (Array.isArray(field)) return field.flatMap((element) => leafValues(element));
  if (isPlainObject(field)) return [];
  return [field as Json];
}

function matchLeaf(matchers: unknown[], fieldPresent: boolean, field: unknown, path: string): boolean {
  if (matchers.length === 0) throw new EventPatternError('an empty array matches nothing and is not allowed', path);
  const values = fieldPresent ? leafValues(field) : [];
  return matchers.some((matcher) => matchOne(matcher, values, path));
}

function matchOne(matcher: unknown, values: Json[], path: string): boolean {
  if (matcher === null || typeof matcher === 'string' || typeof matcher === 'number' || typeof matcher === 'boolean') {
    return values.some((v) => exactEquals(matcher, v));
  }
  if (!isPlainObject(matcher)) throw new EventPatternError(`unsupported matcher ${JSON.stringify(matcher)}`, path);
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new EventPatternError(`a matcher object must have exactly one operator, got ${JSON.stringify(keys)}`, path);
  const op = keys[0] as string;
  const arg = matcher[op];
  switch (op) {
    case 'exists': {
      if (typeof arg !== 'boolean') throw new EventPatternError('exists takes true or false', path);
      return arg ? values.length > 0 : values.length === 0;
    }
    case 'prefix':
      return values.some((v) => typeof v === 'string' && stringTest('prefix', arg, path)(v));
    case 'suffix':
      return values.some((v) => typeof v === 'string' && stringTest('suffix', arg, path)(v));
    case 'equals-ignore-case':
      return values.some((v) => typeof v === 'string' && stringTest('equals-ignore-case', arg, path)(v));
    case 'wildcard':
      return values.some((v) => typeof v === 'string' && stringTest('wildcard', arg, path)(v));
    case 'numeric': {
      const test = numericTest(arg, path);
      return values.some((v) => typeof v === 'number' && test(v));
    }
    case 'cidr': {
      const test = cidrTest(arg, path);
      return values.some((v) => typeof v === 'string' && test(v));
    }
    case 'anything-but': {
      const excluded = anythingButTest(arg, path);
      return values.some((v) => !excluded(v));
    }
    default:
      throw new EventPatternError(`unknown operator "${op}"`, path);
  }
}

/** EventBridge compares numbers by value (300 matches 300.0); types never mix ("300" is not 300). */
function exactEquals(matcher: string | number | boolean | null, value: Json): boolean {
  if (typeof matcher === 'number') return typeof value === 'number' && value === matcher;
  return matcher === value;
}

type StringOp = 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard';

function stringTest(op: StringOp, arg: unknown, path: string): (value: string) => boolean {
  // prefix and suffix also accept {"equals-ignore-case": "..."} to compare case-insensitively.
  if ((op === 'prefix' || op === 'suffix') && isPlainObject(arg)) {
    const inner = Object.keys(arg);
    const needle = arg['equals-ignore-case'];
    if (inner.length !== 1 || typeof needle !== 'string') {
      throw new EventPatternError(`${op} takes a string or {"equals-ignore-case": string}`, path);
    }
    const lower = needle.toLowerCase();
    return op === 'prefix' ? (v) => v.toLowerCase().startsWith(lower) : (v) => v.toLowerCase().endsWith(lower);
  }
  if (typeof arg !== 'string') throw new EventPatternError(`${op} takes a string`, path);
  switch (op) {
    case 'prefix':
      return (v) => v.startsWith(arg);
    case 'suffix':
      return (v) => v.endsWith(arg);
    case 'equals-ignore-case': {
      const lower = arg.toLowerCase();
      return (v) => v.toLowerCase() === lower;
    }
    case 'wildcard': {
      const re = wildcardRegExp(arg, path);
      return (v) => re.test(v);
    }
  }
}

/** `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash. */
function wildcardRegExp(pattern: string, path: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') throw new EventPatternError('in a wildcard, "\\" may only escape "*" or "\\"', path);
      source += `\\${next}`;
      i++;
    } else if (ch === '*') {
      if (pattern[i + 1] === '*') throw new EventPatternError('consecutive "*" are not allowed in a wildcard', path);
      source += '[\\s\\S]*';
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

const NUMERIC_OPS = new Set(['=', '<', '<=', '>', '>=']);

function numericTest(arg: unknown, path: string): (value: number) => boolean {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new EventPatternError('numeric takes [op, number, ...] pairs, e.g. [">", 0, "<=", 5]', path);
  }
  const checks: ((v: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPS.has(op) || typeof bound !== 'number' || !Number.isFinite(bound)) {
      throw new EventPatternError(`numeric: bad pair ${JSON.stringify([op, bound])}`, path);
    }
    switch (op) {
      case '=':
        checks.push((v) => v === bound);
        break;
      case '<':
        checks.push((v) => v < bound);
        break;
      case '<=':
        checks.push((v) => v <= bound);
        break;
      case '>':
        checks.push((v) => v > bound);
        break;
      case '>=':
        checks.push((v) => v >= bound);
        break;
    }
  }
  return (v) => checks.every((check) => check(v));
}

/** Returns the "is excluded" test: a value matches anything-but when it exists and is NOT excluded. */
function anythingButTest(arg: unknown, path: string): (value: Json) => boolean {
  if (arg === null || typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean') {
    return (v) => exactEquals(arg, v);
  }
  if (Array.isArray(arg)) {
    if (arg.length === 0) throw new EventPatternError('anything-but takes a non-empty list', path);
    for (const entry of arg) {
      if (entry !== null && typeof entry !== 'string' && typeof entry !== 'number' && typeof entry !== 'boolean') {
        throw new EventPatternError('anything-but lists hold only strings, numbers, booleans or null', path);
      }
    }
    return (v) => arg.some((entry) => exactEquals(entry as string | number | boolean | null, v));
  }
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    const op = keys[0];
    if (keys.length !== 1 || (op !== 'prefix' && op !== 'suffix' && op !== 'equals-ignore-case' && op !== 'wildcard')) {
      throw new EventPatternError('anything-but takes a value, a list, or one of {prefix|suffix|equals-ignore-case|wildcard}', path);
    }
    const inner = arg[op];
    // anything-but {equals-ignore-case: [...]} and {wildcard: [...]} accept lists too.
    const needles = Array.isArray(inner) && (op === 'equals-ignore-case' || op === 'wildcard') ? inner : [inner];
    if (needles.length === 0) throw new EventPatternError(`anything-but ${op} takes a non-empty value`, path);
    const tests = needles.map((needle) => stringTest(op, needle, path));
    // Non-string values are never excluded by a string operator (they are "anything but" it).
    return (v) => typeof v === 'string' && tests.some((test) => test(v));
  }
  throw new EventPatternError('anything-but takes a value, a list, or an operator object', path);
}

function cidrTest(arg: unknown, path: string): (value: string) => boolean {
  if (typeof arg !== 'string') throw new EventPatternError('cidr takes "a.b.c.d/n"', path);
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(arg);
  const base = m ? ipv4ToInt(m[1] as string) : undefined;
  const bits = m ? Number(m[2]) : NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) {
    throw new EventPatternError(`cidr: "${arg}" is not an IPv4 CIDR block (IPv6 is not supported locally)`, path);
  }
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (value) => {
    const ip = ipv4ToInt(value);
    return ip !== undefined && (ip & mask) >>> 0 === (base & mask) >>> 0;
  };
}

function ipv4ToInt(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let out = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out = out * 256 + n;
  }
  return out;
}

/**
 * Structural validation: the matcher only meets the operators used by the events it sees, so a
 * typo in a rarely-taken branch would otherwise surface late. Matching against an empty object walks
 * every leaf and every `$or` branch.
 */
function validateObject(pattern: Record<string, unknown>, path: string): void {
  for (const [key, sub] of Object.entries(pattern)) {
    const subPath = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isPlainObject)) {
        throw new EventPatternError('$or takes an array of at least two patterns', subPath);
      }
      for (const alt of sub) validateObject(alt, subPath);
    } else if (Array.isArray(sub)) {
      if (sub.length === 0) throw new EventPatternError('an empty array matches nothing and is not allowed', subPath);
      // Exercise each matcher against one value of every type so argument errors surface now.
      for (const matcher of sub) for (const probe of PROBES) matchOne(matcher, [probe], subPath);
    } else if (isPlainObject(sub)) {
      validateObject(sub, subPath);
    } else {
      throw new EventPatternError('a pattern value must be an array of matchers or a nested object', subPath);
    }
  }
}

const PROBES: Json[] = ['probe', 1, true, null];
