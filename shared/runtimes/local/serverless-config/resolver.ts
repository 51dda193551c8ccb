/**
 * Variable resolution for serverless.yml, the subset Serverless Framework v3 features the file
 * uses: `${sls:stage}`, `${opt:...}`, `${self:...}`, `${aws:region|accountId}`, `${env:...}`,
 * fallbacks and nesting; CloudFormation placeholders inside Fn::Sub are left as they are. Lazy:
 * only what the wiring builder reads must resolve locally. Anything else fails loudly.
 */
import { ServerlessConfigError, type LoadOptions } from './types.ts';

export type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UNSUPPORTED = Symbol('unsupported');

export class Resolver {
  private readonly selfStack: string[] = [];
  private stageCache: string | undefined;
  private regionCache: string | undefined;

  constructor(
    readonly raw: Obj,
    private readonly opts: LoadOptions,
  ) {}

  /** The resolved value at a dotted path of the file, or undefined when absent. */
  get(path: string): unknown {
    const value = this.rawAt(path);
    if (value === undefined) return undefined;
    if (this.selfStack.includes(path)) {
      throw new ServerlessConfigError(`circular reference: ${[...this.selfStack, path].join(' -> ')}`, path);
    }
    this.selfStack.push(path);
    try {
      return this.resolveDeep(value, path);
    } finally {
      this.selfStack.pop();
    }
  }

  rawAt(path: string): unknown {
    let current: unknown = this.raw;
    for (const part of path.split('.')) {
      if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
      else if (isObject(current)) current = current[part];
      else return undefined;
      if (current === undefined) return undefined;
    }
    return current;
  }

  stage(): string {
    if (this.stageCache === undefined) {
      const fromProvider = this.opts.stage ?? this.get('provider.stage');
      this.stageCache = fromProvider === undefined ? 'dev' : String(fromProvider);
    }
    return this.stageCache;
  }

  region(): string {
    if (this.regionCache === undefined) {
      const fromProvider = this.opts.region ?? this.get('provider.region');
      this.regionCache = fromProvider === undefined ? 'us-east-1' : String(fromProvider);
    }
    return this.regionCache;
  }

  resolveDeep(value: unknown, path: string): unknown {
    if (typeof value === 'string') return this.resolveString(value, path);
    if (Array.isArray(value)) return value.map((v, i) => this.resolveDeep(v, `${path}.${i}`));
    if (isObject(value)) {
      const out: Obj = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.resolveDeep(v, path ? `${path}.${k}` : k);
      return out;
    }
    return value;
  }

  /** Resolves every `${...}` in a string. A string that is exactly one variable keeps the variable's type. */
  resolveString(text: string, path: string): unknown {
    const parts = splitVariables(text, path);
    if (parts.length === 1 && typeof parts[0] !== 'string' && parts[0]) {
      const v = this.resolveVariable(parts[0].body, path);
      return v === PASS_THROUGH ? text : v;
    }
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const v = this.resolveVariable(part.body, path);
      if (v === PASS_THROUGH) out += `\${${part.body}}`;
      else if (isObject(v) || Array.isArray(v)) {
        throw new ServerlessConfigError(`\${${part.body}} resolves to an object and cannot be embedded in a string`, path);
      } else out += String(v);
    }
    return out;
  }

  private resolveVariable(body: string, path: string): unknown {
    const trimmed = body.trim();
    // CloudFormation Fn::Sub placeholders: ${AWS::Region}, ${Resource}, ${Resource.Attr}, ${!Literal}.
    if (/^AWS::\w+$/.test(trimmed) || /^[A-Za-z0-9]+(\.[A-Za-z0-9.]+)?$/.test(trimmed) || trimmed.startsWith('!')) {
      return PASS_THROUGH;
    }
    for (const alternative of splitTopLevel(trimmed, ',')) {
      const v = this.resolveAlternative(alternative.trim(), body, path);
      if (v !== undefined && v !== null) return v;
    }
    throw new ServerlessConfigError(`cannot resolve \${${body}}: no value and no fallback`, path);
  }

  private resolveAlternative(alt: string, whole: string, path: string): unknown {
    if (/^'.*'$/s.test(alt) || /^".*"$/s.test(alt)) return alt.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(alt)) return Number(alt);
    if (alt === 'true' || alt === 'false') return alt === 'true';
    if (alt === 'null') return null;
    // A fallback that is a variable, or an address that contains variables.
    let ref = alt;
    if (alt.includes('${')) {
      const resolved = this.resolveString(alt, path);
      if (/^\$\{.*\}$/s.test(alt) && splitVariables(alt, path).length === 1) return resolved;
      if (typeof resolved !== 'string') {
        throw new ServerlessConfigError(`in \${${whole}}: "${alt}" does not resolve to a variable address`, path);
      }
      ref = resolved;
    }
    const m = /^([A-Za-z][\w-]*):(.*)$/s.exec(ref);
    if (!m) {
      throw new ServerlessConfigError(`cannot resolve \${${whole}}: "${ref}" is neither a literal nor a source:address variable ` + '(the local loader supports sls:, opt:, self:, aws:, env:)', path);
    }
    const v = this.source(m[1] as string, (m[2] as string).trim(), path);
    if (v === UNSUPPORTED) {
      throw new ServerlessConfigError(`cannot resolve \${${whole}}: "${m[1]}:${m[2]}" is not supported by the local loader (supported: ` + '${sls:stage}, ${opt:...}, ${self:...}, ${aws:region}, ${aws:accountId}, ${env:...})', path);
    }
    return v;
  }

  private source(kind: string, address: string, path: string): unknown {
    switch (kind) {
      case 'sls':
        return address === 'stage' ? this.stage() : UNSUPPORTED;
      case 'opt':
        if (address === 'stage') return this.opts.stage;
        if (address === 'region') return this.opts.region;
        return this.opts.options?.[address];
      case 'aws':
        if (address === 'region') return this.region();
        if (address === 'accountId') return this.opts.accountId ?? '000000000000';
        return UNSUPPORTED;
      case 'env':
        return (this.opts.env ?? process.env)[address];
      case 'self': {
        if (address === '') throw new ServerlessConfigError('${self:} (the whole file) is not supported', path);
        return this.get(address);
      }
      default:
        return UNSUPPORTED;
    }
  }
}

const PASS_THROUGH = Symbol('cloudformation placeholder');

type Piece = string | { body: string };

/** Splits `a${x}b${y, ${z}}` into literal pieces and top-level variable bodies. */
function splitVariables(text: string, path: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  let literal = '';
  while (i < text.length) {
    if (text[i] === '$' && text[i + 1] === '{') {
      let depth = 1;
      let j = i + 2;
      let quote: string | undefined;
      for (; j < text.length && depth > 0; j++) {
        const ch = text[j];
        if (quote) {
          if (ch === quote) quote = undefined;
        } else if (ch === "'" || ch === '"') quote = ch;
        else if (ch === '$' && text[j + 1] === '{') {
          depth++;
          j++;
        } else if (ch === '}') depth--;
      }
      if (depth > 0) throw new ServerlessConfigError(`unterminated variable in "${text}"`, path);
      if (literal) out.push(literal);
      literal = '';
      out.push({ body: text.slice(i + 2, j - 1) });
      i = j;
    } else {
      literal += text[i];
      i++;
    }
  }
  if (literal || out.length === 0) out.push(literal);
  return out;
}

/** Splits on `sep` outside quotes and nested `${...}`. */
function splitTopLevel(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (ch === '}') depth--;
    else if (ch === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
