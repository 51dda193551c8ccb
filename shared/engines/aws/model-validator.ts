/**
 * Validates a request against an AWS service's official model (botocore `service-2.json`), the way
 * the service would check its shape before looking at its meaning: unknown members, missing
 * required members, JSON types, enum values, `pattern`, `min`/`max`, and unions (exactly one
 * member set). Tests run every request the AWS engine sends through it, so a request the service
 * would reject for its shape fails a test here instead of a deploy.
 *
 * Member names are the model's (PascalCase), which are also the SDK v3 command input names; the
 * wire names (`locationName`, camelCase) are the SDK's business.
 *
 * One extension: botocore strips MediaLive's numeric/length traits but keeps them in the shape
 * *names* (`__integerMin30`, `__integerMin0Max7`, `__stringMin1Max255`). With
 * `rangesFromShapeNames` (default on) those names are read as min/max when the shape carries no
 * explicit `min`/`max`; the problem message says where the range came from.
 *
 * What it cannot know: cross-member rules the service checks server-side (an `AudioSelectorName`
 * that names no selector, CBR without `Bitrate`, ...). Those surface as 422
 * UnprocessableEntityException; the fake (aws-fake.ts) checks the few the engine relies on.
 */
import { readFileSync } from 'node:fs';

/** The parts of a botocore shape this validator reads. */
export interface ModelShape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'double' | 'float' | 'boolean' | 'timestamp' | 'blob' | 'document';
  members?: Record<string, { shape: string; location?: string; locationName?: string; deprecated?: boolean }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  union?: boolean;
  exception?: boolean;
}

export interface ServiceModel {
  metadata: { serviceId: string; apiVersion: string; uid?: string; protocol?: string };
  operations: Record<string, { name: string; input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, ModelShape>;
}

export interface ValidationProblem {
  /** Member path from the request root, e.g. `EncoderSettings.VideoDescriptions[0].Name`; '' = the request itself. */
  path: string;
  message: string;
}

export interface ValidatorOptions {
  /** Read min/max from MediaLive-style shape names (`__integerMin0Max7`) where no trait exists. Default true. */
  rangesFromShapeNames?: boolean;
}

/** `path: message`, the form tests print. */
export function formatProblem(p: ValidationProblem): string {
  return `${p.path || '(request)'}: ${p.message}`;
}

/** Reads a botocore `service-2.json`. */
export function loadServiceModel(file: string): ServiceModel {
  const model = JSON.parse(readFileSync(file, 'utf8')) as ServiceModel;
  if (!model.operations || !model.shapes || !model.metadata) throw new Error(`${file} is not a botocore service model (no operations/shapes/metadata)`);
  return model;
}

const NAME_RANGE = /^__(integer|long|double|string)(?:Min(Negative)?(\d+))?(?:Max(Negative)?(\d+))?(?:Pattern\w*)?$/;

/** min/max encoded in a MediaLive shape name, or null. */
export function rangeFromShapeName(name: string): { min?: number; max?: number } | null {
  const m = NAME_RANGE.exec(name);
  if (!m || (m[3] === undefined && m[5] === undefined)) return null;
  const out: { min?: number; max?: number } = {};
  if (m[3] !== undefined) out.min = (m[2] ? -1 : 1) * Number(m[3]);
  if (m[5] !== undefined) out.max = (m[4] ? -1 : 1) * Number(m[5]);
  return out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array);

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'Date';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

const join = (path: string, member: string): string => (path ? `${path}.${member}` : member);

export class ModelValidator {
  private readonly patterns = new Map<string, RegExp | null>();
  private readonly rangesFromNames: boolean;

  constructor(
    readonly model: ServiceModel,
    options: ValidatorOptions = {},
  ) {
    this.rangesFromNames = options.rangesFromShapeNames ?? true;
  }

  static fromFile(file: string, options?: ValidatorOptions): ModelValidator {
    return new ModelValidator(loadServiceModel(file), options);
  }

  get serviceId(): string {
    return this.model.metadata.serviceId;
  }

  hasOperation(operation: string): boolean {
    return operation in this.model.operations;
  }

  /**
   * Every problem with `input` as the input of `operation` (empty = the shape is acceptable).
   * @throws Error when the model has no such operation (a typo in a test, or a command the model does not know)
   */
  validate(operation: string, input: unknown): ValidationProblem[] {
    const op = this.model.operations[operation];
    if (!op) throw new Error(`${this.serviceId} has no operation ${operation}`);
    const problems: ValidationProblem[] = [];
    if (!op.input) {
      if (isPlainObject(input) && Object.values(input).some((v) => v !== undefined)) problems.push({ path: '', message: `${operation} takes no input` });
      return problems;
    }
    this.walk(op.input.shape, input ?? {}, '', problems);
    return problems;
  }

  private shape(name: string): ModelShape {
    const s = this.model.shapes[name];
    if (!s) throw new Error(`${this.serviceId} model references a missing shape ${name}`);
    return s;
  }

  private regex(shapeName: string, pattern: string): RegExp | null {
    if (!this.patterns.has(shapeName)) {
      let re: RegExp | null = null;
      // Smithy patterns are ECMA-262 and not implicitly anchored.
      try {
        re = new RegExp(pattern, 'u');
      } catch {
        try {
          re = new RegExp(pattern);
        } catch {
          re = null; // a pattern JavaScript cannot compile is not checked rather than guessed
        }
      }
      this.patterns.set(shapeName, re);
    }
    return this.patterns.get(shapeName) ?? null;
  }

  private bounds(name: string, s: ModelShape): { min?: number; max?: number; fromName: boolean } {
    if (s.min !== undefined || s.max !== undefined) return { min: s.min, max: s.max, fromName: false };
    const fromName = this.rangesFromNames ? rangeFromShapeName(name) : null;
    return fromName ? { ...fromName, fromName: true } : { fromName: false };
  }

  private checkBounds(name: string, s: ModelShape, measured: number, what: 'length' | 'value' | 'items' | 'entries', path: string, out: ValidationProblem[]): void {
    const b = this.bounds(name, s);
    const origin = b.fromName ? ` (range from the shape name ${name})` : '';
    if (b.min !== undefined && measured < b.min) out.push({ path, message: `${what} ${measured} is below the minimum ${b.min}${origin}` });
    if (b.max !== undefined && measured > b.max) out.push({ path, message: `${what} ${measured} is above the maximum ${b.max}${origin}` });
  }

  private walk(shapeName: string, value: unknown, path: string, out: ValidationProblem[]): void {
    const s = this.shape(shapeName);
    if (value === null) {
      out.push({ path, message: `null is not a valid ${s.type}` });
      return;
    }
    switch (s.type) {
      case 'structure': {
        if (!isPlainObject(value)) {
          out.push({ path, message: `expected structure ${shapeName}, got ${describeValue(value)}` });
          return;
        }
        const members = s.members ?? {};
        for (const req of s.required ?? []) {
          if (value[req] === undefined) out.push({ path: join(path, req), message: `missing required member '${req}'` });
        }
        const set: string[] = [];
        for (const [key, v] of Object.entries(value)) {
          if (v === undefined) continue; // the SDK drops undefined members
          const member = members[key];
          if (!member) {
            out.push({ path: join(path, key), message: `unknown member '${key}' of ${shapeName}` });
            continue;
          }
          set.push(key);
          this.walk(member.shape, v, join(path, key), out);
        }
        if (s.union && set.length !== 1) out.push({ path, message: `union ${shapeName} needs exactly one member set, got ${set.length}${set.length ? ` (${set.join(', ')})` : ''}` });
        return;
      }
      case 'list': {
        if (!Array.isArray(value)) {
          out.push({ path, message: `expected list, got ${describeValue(value)}` });
          return;
        }
        this.checkBounds(shapeName, s, value.length, 'items', path, out);
        for (const [i, item] of value.entries()) this.walk(s.member!.shape, item, `${path}[${i}]`, out);
        return;
      }
      case 'map': {
        if (!isPlainObject(value)) {
          out.push({ path, message: `expected map, got ${describeValue(value)}` });
          return;
        }
        const entries = Object.entries(value).filter(([, v]) => v !== undefined);
        this.checkBounds(shapeName, s, entries.length, 'entries', path, out);
        for (const [k, v] of entries) {
          this.walk(s.key!.shape, k, `${path}{key ${show(k)}}`, out);
          this.walk(s.value!.shape, v, `${path}[${JSON.stringify(k)}]`, out);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string') {
          out.push({ path, message: `expected string, got ${describeValue(value)}` });
          return;
        }
        if (s.enum && !s.enum.includes(value)) {
          out.push({ path, message: `${show(value)} not in enum ${shapeName} (${s.enum.join(' | ')})` });
          return;
        }
        this.checkBounds(shapeName, s, [...value].length, 'length', path, out);
        if (s.pattern) {
          const re = this.regex(shapeName, s.pattern);
          if (re && !re.test(value)) out.push({ path, message: `${show(value)} does not match pattern ${s.pattern}` });
        }
        return;
      }
      case 'integer':
      case 'long': {
        const ok = (typeof value === 'number' && Number.isInteger(value)) || (s.type === 'long' && typeof value === 'bigint');
        if (!ok) {
          out.push({ path, message: `expected ${s.type}, got ${typeof value === 'number' ? `non-integer ${value}` : describeValue(value)}` });
          return;
        }
        this.checkBounds(shapeName, s, Number(value), 'value', path, out);
        return;
      }
      case 'double':
      case 'float': {
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          out.push({ path, message: `expected ${s.type}, got ${typeof value === 'number' ? String(value) : describeValue(value)}` });
          return;
        }
        this.checkBounds(shapeName, s, value, 'value', path, out);
        return;
      }
      case 'boolean':
        if (typeof value !== 'boolean') out.push({ path, message: `expected boolean, got ${describeValue(value)}` });
        return;
      case 'timestamp': {
        const ok = (value instanceof Date && !Number.isNaN(value.getTime())) || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
        if (!ok) out.push({ path, message: `expected timestamp (Date, epoch seconds or ISO 8601), got ${describeValue(value)}` });
        return;
      }
      case 'blob':
        if (!(value instanceof Uint8Array) && typeof value !== 'string') out.push({ path, message: `expected blob (bytes or string), got ${describeValue(value)}` });
        return;
      case 'document':
        return;
      default:
        out.push({ path, message: `shape ${shapeName} has type ${(s as { type: string }).type}, which this validator does not know` });
    }
  }
}
