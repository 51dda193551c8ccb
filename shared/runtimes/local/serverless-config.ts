/**
 * Reads serverless.yml, the single source of truth for the AWS deployment, and derives from it the
 * wiring the local (one-process) runtime needs: event buses, EventBridge rules and their target
 * queues, queue visibility timeouts and redrive (DLQ) policies, SQS consumer functions and their
 * batching settings, scheduled functions, DynamoDB table key schemas and the provider environment.
 *
 * It understands exactly the subset of Serverless Framework v3 that serverless.yml uses, and fails
 * loudly (throws `ServerlessConfigError` naming the path) for anything else rather than letting the
 * local runtime silently diverge from what AWS would run:
 *  - variables: `${sls:stage}`, `${opt:stage|region, fallback}`, `${self:a.b.c}` (incl. `${self:service}`),
 *    `${aws:region}`, `${aws:accountId}` (a fake local account), `${env:NAME, fallback}`, fallbacks
 *    (`, 'literal'`, `, 123`, `, ${other:var}`) and nesting (`${self:custom.${sls:stage}}`);
 *    CloudFormation placeholders such as `${AWS::Region}` or `${Table.Arn}` (in `Fn::Sub`) are left as is;
 *  - intrinsics in the long form only (`Ref`, `Fn::GetAtt`); the YAML short tags (`!Ref`) are rejected.
 *
 * Values are resolved lazily: only the parts of the file the local wiring uses must be resolvable
 * locally, so AWS-only settings elsewhere in the file never break the local runtime.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { validatePattern, type EventPattern } from './event-pattern.ts';

/**
 * Repository root: the nearest directory above this module holding serverless.yml (this file lives
 * in shared/runtimes/local/ when run from source, in .build/<name>/ when bundled by build.ts).
 */
export const repoRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'serverless.yml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no serverless.yml in ${from} or above it`);
  }
}
export const defaultServerlessFile: string = join(repoRoot, 'serverless.yml');

export class ServerlessConfigError extends Error {
  constructor(message: string, readonly path?: string) {
    super(path ? `serverless.yml: ${path}: ${message}` : `serverless.yml: ${message}`);
    this.name = 'ServerlessConfigError';
  }
}

export interface HandlerRef {
  /** Repo-relative TypeScript file, e.g. `shared/runtimes/aws/destination.ts`. */
  file: string;
  /** Named export, e.g. `handler`. */
  exportName: string;
}

export interface TableWiring {
  logicalId: string;
  tableName: string;
  keySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  attributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  globalSecondaryIndexes?: unknown[];
  ttlAttribute?: string;
}

export interface QueueWiring {
  logicalId: string;
  /** QueueName when set, else `<service>-<stage>-<logicalId>` (CloudFormation would generate one). */
  queueName: string;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  maxReceiveCount?: number;
  /** Logical id of the dead-letter queue. */
  deadLetterQueue?: string;
}

export interface RuleWiring {
  logicalId: string;
  /** Rule name: Name when set, else the logical id. */
  name: string;
  /** Bus name; 'default' when the rule has no EventBusName. */
  busName: string;
  enabled: boolean;
  eventPattern: EventPattern;
  /** Queue logical ids. */
  targetQueues: string[];
}

export interface SqsFunctionWiring {
  name: string;
  handler: HandlerRef;
  /** Queue logical id. */
  queue: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  timeoutSeconds: number;
  /** Lambda event filtering: records matching none of these are deleted without invoking the function. */
  filterPatterns?: EventPattern[];
}

export interface ScheduledFunctionWiring {
  name: string;
  handler: HandlerRef;
  rateSeconds: number;
  timeoutSeconds: number;
  /** The schedule's constant `input`, delivered instead of the scheduled event when set. */
  input?: unknown;
}

export interface HttpApiFunctionWiring {
  name: string;
  handler: HandlerRef;
  /** Route keys as written: '*', 'GET /destinations', ... */
  routes: string[];
  timeoutSeconds: number;
}

export interface LocalWiring {
  service: string;
  stage: string;
  region: string;
  buses: { logicalId: string; name: string }[];
  tables: TableWiring[];
  queues: QueueWiring[];
  rules: RuleWiring[];
  sqsFunctions: SqsFunctionWiring[];
  scheduledFunctions: ScheduledFunctionWiring[];
  httpApiFunctions: HttpApiFunctionWiring[];
  /**
   * provider.environment as the functions would see it: literals as strings, `Ref`s to tables
   * resolved to their TableName and to buses to their name. Other intrinsics (e.g. the KMS key Ref)
   * have no local value and are left out; `omittedEnvironment` names them. Note it is the deployed
   * environment: it says FANOUT_RUNTIME=aws, which the local runtime overrides.
   */
  environment: Record<string, string>;
  omittedEnvironment: string[];
}

/** The loader's result. */
export type ServerlessConfig = LocalWiring;

export interface LoadOptions {
  /** Path of serverless.yml; default: the repository's. */
  file?: string;
  /** Like `--stage`; default: provider.stage's own fallback ('dev'). */
  stage?: string;
  /** Like `--region`; default: provider.region's own fallback. */
  region?: string;
  /** Other `--option`s for `${opt:...}`. */
  options?: Record<string, string>;
  /** Account id for `${aws:accountId}`; default '000000000000'. */
  accountId?: string;
  /** Environment for `${env:...}`; default process.env. */
  env?: Record<string, string | undefined>;
}

export function loadServerlessConfig(opts: LoadOptions = {}): ServerlessConfig {
  const file = opts.file ?? defaultServerlessFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ServerlessConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseServerlessConfig(text, opts);
}

/** Same as `loadServerlessConfig`, from the file's text. */
export function parseServerlessConfig(text: string, opts: LoadOptions = {}): ServerlessConfig {
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ServerlessConfigError(`invalid YAML: ${doc.errors.map((e) => e.message).join('\n')}`);
  const tagProblems = doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tagProblems.length > 0) {
    throw new ServerlessConfigError(
      'YAML short-form intrinsics (!Ref, !GetAtt, !Sub ...) are not allowed; use the long form ' +
        `(Ref: X, Fn::GetAtt: [X, Arn], Fn::Sub: ...):\n${tagProblems.map((w) => w.message).join('\n')}`,
    );
  }
  const raw: unknown = doc.toJS();
  if (!isObject(raw)) throw new ServerlessConfigError('the file is not a YAML mapping');
  return new WiringBuilder(new Resolver(raw, opts)).build();
}

/** `shared/runtimes/aws/x.inbox` → `{ file: 'shared/runtimes/aws/x.ts', exportName: 'inbox' }`. */
export function handlerRef(handler: string): HandlerRef {
  const dot = handler.lastIndexOf('.');
  const slash = handler.lastIndexOf('/');
  if (dot <= 0 || dot < slash || dot === handler.length - 1) {
    throw new ServerlessConfigError(`handler "${handler}" is not of the form path/to/file.exportName`);
  }
  return { file: `${handler.slice(0, dot)}.ts`, exportName: handler.slice(dot + 1) };
}

// ------------------------------------------------------------------------------------------------
// Variable resolution

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UNSUPPORTED = Symbol('unsupported');

class Resolver {
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
      throw new ServerlessConfigError(
        `cannot resolve \${${whole}}: "${ref}" is neither a literal nor a source:address variable ` +
          '(the local loader supports sls:, opt:, self:, aws:, env:)',
        path,
      );
    }
    const v = this.source(m[1] as string, (m[2] as string).trim(), path);
    if (v === UNSUPPORTED) {
      throw new ServerlessConfigError(
        `cannot resolve \${${whole}}: "${m[1]}:${m[2]}" is not supported by the local loader (supported: ` +
          '${sls:stage}, ${opt:...}, ${self:...}, ${aws:region}, ${aws:accountId}, ${env:...})',
        path,
      );
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

// ------------------------------------------------------------------------------------------------
// Building the wiring

const SUPPORTED_RESOURCE_TYPES = new Set(['AWS::Events::EventBus', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Events::Rule']);

class WiringBuilder {
  private readonly service: string;
  private readonly stage: string;
  private readonly resources: Obj;

  constructor(private readonly r: Resolver) {
    const service = r.get('service');
    const serviceName = isObject(service) ? service['name'] : service;
    if (typeof serviceName !== 'string' || serviceName === '') throw new ServerlessConfigError('missing service name', 'service');
    this.service = serviceName;
    const provider = r.rawAt('provider.name');
    if (provider !== 'aws') throw new ServerlessConfigError(`provider.name must be aws, got ${JSON.stringify(provider)}`, 'provider.name');
    this.stage = r.stage();
    const resources = r.rawAt('resources.Resources') ?? {};
    if (!isObject(resources)) throw new ServerlessConfigError('must be a mapping of logical ids to resources', 'resources.Resources');
    this.resources = resources;
  }

  build(): LocalWiring {
    const buses: LocalWiring['buses'] = [];
    const tables: TableWiring[] = [];
    const queues: QueueWiring[] = [];
    const rules: RuleWiring[] = [];
    for (const logicalId of Object.keys(this.resources)) {
      const type = this.typeOf(logicalId);
      if (!SUPPORTED_RESOURCE_TYPES.has(type)) continue; // AWS-only resources (KMS, SNS, alarms...): not needed locally
      const props = this.props(logicalId);
      const at = `resources.Resources.${logicalId}.Properties`;
      switch (type) {
        case 'AWS::Events::EventBus':
          buses.push({ logicalId, name: this.requireString(props['Name'], `${at}.Name`) });
          break;
        case 'AWS::DynamoDB::Table':
          tables.push(this.table(logicalId, props, at));
          break;
        case 'AWS::SQS::Queue':
          queues.push(this.queue(logicalId, props, at));
          break;
        case 'AWS::Events::Rule':
          rules.push(this.rule(logicalId, props, at));
          break;
      }
    }
    const wiring: LocalWiring = {
      service: this.service,
      stage: this.stage,
      region: this.r.region(),
      buses,
      tables,
      queues,
      rules,
      sqsFunctions: [],
      scheduledFunctions: [],
      httpApiFunctions: [],
      environment: {},
      omittedEnvironment: [],
    };
    this.functions(wiring);
    this.environment(wiring, tables, buses);
    return wiring;
  }

  private typeOf(logicalId: string): string {
    const resource = this.resources[logicalId];
    const type = isObject(resource) ? resource['Type'] : undefined;
    if (typeof type !== 'string') throw new ServerlessConfigError('resource has no Type', `resources.Resources.${logicalId}`);
    return type;
  }

  private props(logicalId: string): Obj {
    const props = this.r.get(`resources.Resources.${logicalId}.Properties`) ?? {};
    if (!isObject(props)) throw new ServerlessConfigError('Properties must be a mapping', `resources.Resources.${logicalId}.Properties`);
    return props;
  }

  private requireString(value: unknown, path: string): string {
    if (typeof value !== 'string' || value === '') {
      throw new ServerlessConfigError(`expected a string, got ${JSON.stringify(value)}`, path);
    }
    return value;
  }

  private number(value: unknown, fallback: number, path: string): number {
    if (value === undefined) return fallback;
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ServerlessConfigError(`expected a number, got ${JSON.stringify(value)}`, path);
    return n;
  }

  private table(logicalId: string, props: Obj, at: string): TableWiring {
    const keySchema = props['KeySchema'];
    const attributeDefinitions = props['AttributeDefinitions'];
    if (!Array.isArray(keySchema) || keySchema.length === 0) throw new ServerlessConfigError('KeySchema must be a non-empty list', `${at}.KeySchema`);
    if (!Array.isArray(attributeDefinitions)) throw new ServerlessConfigError('AttributeDefinitions must be a list', `${at}.AttributeDefinitions`);
    const keys = keySchema.map((k, i) => {
      if (!isObject(k) || typeof k['AttributeName'] !== 'string' || (k['KeyType'] !== 'HASH' && k['KeyType'] !== 'RANGE')) {
        throw new ServerlessConfigError('expected {AttributeName, KeyType: HASH|RANGE}', `${at}.KeySchema.${i}`);
      }
      return { AttributeName: k['AttributeName'], KeyType: k['KeyType'] as 'HASH' | 'RANGE' };
    });
    const attrs = attributeDefinitions.map((a, i) => {
      if (!isObject(a) || typeof a['AttributeName'] !== 'string' || !['S', 'N', 'B'].includes(a['AttributeType'] as string)) {
        throw new ServerlessConfigError('expected {AttributeName, AttributeType: S|N|B}', `${at}.AttributeDefinitions.${i}`);
      }
      return { AttributeName: a['AttributeName'], AttributeType: a['AttributeType'] as 'S' | 'N' | 'B' };
    });
    for (const k of keys) {
      if (!attrs.some((a) => a.AttributeName === k.AttributeName)) {
        throw new ServerlessConfigError(`key attribute ${k.AttributeName} has no AttributeDefinition`, `${at}.KeySchema`);
      }
    }
    const table: TableWiring = {
      logicalId,
      tableName: props['TableName'] === undefined ? `${this.service}-${this.stage}-${logicalId}` : this.requireString(props['TableName'], `${at}.TableName`),
      keySchema: keys,
      attributeDefinitions: attrs,
    };
    const gsis = props['GlobalSecondaryIndexes'];
    if (gsis !== undefined) {
      if (!Array.isArray(gsis)) throw new ServerlessConfigError('must be a list', `${at}.GlobalSecondaryIndexes`);
      table.globalSecondaryIndexes = gsis;
    }
    const ttl = props['TimeToLiveSpecification'];
    if (isObject(ttl) && ttl['Enabled'] !== false && ttl['Enabled'] !== 'false' && typeof ttl['AttributeName'] === 'string') {
      table.ttlAttribute = ttl['AttributeName'];
    }
    return table;
  }

  private queue(logicalId: string, props: Obj, at: string): QueueWiring {
    if (props['FifoQueue'] === true || props['FifoQueue'] === 'true') {
      throw new ServerlessConfigError('FIFO queues are not supported by the local runtime', `${at}.FifoQueue`);
    }
    const queue: QueueWiring = {
      logicalId,
      queueName: props['QueueName'] === undefined ? `${this.service}-${this.stage}-${logicalId}` : this.requireString(props['QueueName'], `${at}.QueueName`),
      visibilityTimeoutSeconds: this.number(props['VisibilityTimeout'], 30, `${at}.VisibilityTimeout`),
      delaySeconds: this.number(props['DelaySeconds'], 0, `${at}.DelaySeconds`),
    };
    let redrive = props['RedrivePolicy'];
    if (typeof redrive === 'string') {
      try {
        redrive = JSON.parse(redrive);
      } catch {
        throw new ServerlessConfigError('RedrivePolicy is not valid JSON', `${at}.RedrivePolicy`);
      }
    }
    if (redrive !== undefined) {
      if (!isObject(redrive)) throw new ServerlessConfigError('must be a mapping', `${at}.RedrivePolicy`);
      queue.deadLetterQueue = this.queueFromArn(redrive['deadLetterTargetArn'], `${at}.RedrivePolicy.deadLetterTargetArn`);
      const max = this.number(redrive['maxReceiveCount'], NaN, `${at}.RedrivePolicy.maxReceiveCount`);
      if (!Number.isInteger(max) || max < 1) throw new ServerlessConfigError('maxReceiveCount must be a positive integer', `${at}.RedrivePolicy.maxReceiveCount`);
      queue.maxReceiveCount = max;
    }
    return queue;
  }

  private rule(logicalId: string, props: Obj, at: string): RuleWiring {
    let pattern = props['EventPattern'];
    if (pattern === undefined) {
      throw new ServerlessConfigError(
        'rules without an EventPattern (ScheduleExpression rules) are not supported locally; use a function `schedule` event',
        at,
      );
    }
    if (typeof pattern === 'string') {
      try {
        pattern = JSON.parse(pattern);
      } catch {
        throw new ServerlessConfigError('EventPattern is not valid JSON', `${at}.EventPattern`);
      }
    }
    try {
      validatePattern(pattern);
    } catch (err) {
      throw new ServerlessConfigError((err as Error).message, `${at}.EventPattern`);
    }
    const targets = props['Targets'] ?? [];
    if (!Array.isArray(targets)) throw new ServerlessConfigError('must be a list', `${at}.Targets`);
    const targetQueues = targets.map((t, i) => {
      const tPath = `${at}.Targets.${i}`;
      if (!isObject(t)) throw new ServerlessConfigError('must be a mapping', tPath);
      for (const unsupported of ['Input', 'InputPath', 'InputTransformer']) {
        if (t[unsupported] !== undefined) throw new ServerlessConfigError(`${unsupported} is not supported by the local runtime`, tPath);
      }
      return this.queueFromArn(t['Arn'], `${tPath}.Arn`);
    });
    const state = props['State'] ?? 'ENABLED';
    return {
      logicalId,
      name: props['Name'] === undefined ? logicalId : this.requireString(props['Name'], `${at}.Name`),
      busName: this.busName(props['EventBusName'], `${at}.EventBusName`),
      enabled: state === 'ENABLED',
      eventPattern: pattern,
      targetQueues,
    };
  }

  /** EventBusName: absent → 'default'; a name; an event-bus ARN; Ref / GetAtt of a bus in this file. */
  private busName(value: unknown, path: string): string {
    if (value === undefined) return 'default';
    if (typeof value === 'string') {
      const m = /^arn:[^:]+:events:[^:]*:[^:]*:event-bus\/(.+)$/.exec(value);
      return m ? (m[1] as string) : value;
    }
    const id = refOf(value) ?? getAttOf(value, ['Name', 'Arn']);
    if (id && this.resources[id] !== undefined && this.typeOf(id) === 'AWS::Events::EventBus') {
      return this.requireString(this.props(id)['Name'], `resources.Resources.${id}.Properties.Name`);
    }
    throw new ServerlessConfigError(`cannot resolve the event bus ${JSON.stringify(value)}`, path);
  }

  /** A queue ARN: `Fn::GetAtt: [Queue, Arn]` of a queue in this file, or an ARN string naming one. */
  private queueFromArn(value: unknown, path: string): string {
    const id = getAttOf(value, ['Arn']);
    if (id) {
      if (this.resources[id] === undefined || this.typeOf(id) !== 'AWS::SQS::Queue') {
        throw new ServerlessConfigError(`${id} is not an AWS::SQS::Queue of this file (only SQS targets are supported locally)`, path);
      }
      return id;
    }
    if (typeof value === 'string') {
      const m = /^arn:[^:]+:sqs:[^:]*:[^:]*:(.+)$/.exec(value);
      if (m) {
        for (const logicalId of Object.keys(this.resources)) {
          if (this.typeOf(logicalId) === 'AWS::SQS::Queue' && this.props(logicalId)['QueueName'] === m[1]) return logicalId;
        }
      }
    }
    throw new ServerlessConfigError(`cannot resolve ${JSON.stringify(value)} to an SQS queue of this file`, path);
  }

  private functions(wiring: LocalWiring): void {
    const fns = this.r.rawAt('functions') ?? {};
    if (!isObject(fns)) throw new ServerlessConfigError('must be a mapping', 'functions');
    const providerTimeout = this.number(this.r.get('provider.timeout'), 6, 'provider.timeout');
    for (const name of Object.keys(fns)) {
      const at = `functions.${name}`;
      const fn = this.r.get(at);
      if (!isObject(fn)) throw new ServerlessConfigError('must be a mapping', at);
      if (fn['environment'] !== undefined) {
        throw new ServerlessConfigError(
          'function-level environment is not supported: all functions share one process locally; use provider.environment',
          `${at}.environment`,
        );
      }
      if (typeof fn['handler'] !== 'string') throw new ServerlessConfigError('missing handler (container images are not supported locally)', `${at}.handler`);
      let handler: HandlerRef;
      try {
        handler = handlerRef(fn['handler']);
      } catch (err) {
        throw new ServerlessConfigError((err as Error).message, `${at}.handler`);
      }
      const timeoutSeconds = this.number(fn['timeout'], providerTimeout, `${at}.timeout`);
      const events = fn['events'] ?? [];
      if (!Array.isArray(events)) throw new ServerlessConfigError('must be a list', `${at}.events`);
      const routes: string[] = [];
      events.forEach((event, i) => {
        const ePath = `${at}.events.${i}`;
        if (!isObject(event) || Object.keys(event).length !== 1) throw new ServerlessConfigError('an event must be a mapping with one key', ePath);
        const [kind, spec] = Object.entries(event)[0] as [string, unknown];
        switch (kind) {
          case 'httpApi':
            routes.push(this.httpApiRoute(spec, `${ePath}.httpApi`));
            break;
          case 'sqs': {
            const sqs = this.sqsEvent(name, handler, timeoutSeconds, spec, `${ePath}.sqs`);
            if (sqs) wiring.sqsFunctions.push(sqs);
            break;
          }
          case 'schedule': {
            const scheduled = this.scheduleEvent(name, handler, timeoutSeconds, spec, `${ePath}.schedule`);
            if (scheduled) wiring.scheduledFunctions.push(scheduled);
            break;
          }
          default:
            throw new ServerlessConfigError(`"${kind}" events are not supported by the local runtime (supported: httpApi, sqs, schedule)`, ePath);
        }
      });
      if (routes.length > 0) wiring.httpApiFunctions.push({ name, handler, routes, timeoutSeconds });
    }
  }

  private httpApiRoute(spec: unknown, path: string): string {
    if (typeof spec === 'string') return spec;
    if (isObject(spec) && typeof spec['path'] === 'string') {
      const method = typeof spec['method'] === 'string' ? spec['method'].toUpperCase() : '*';
      return method === '*' && spec['path'] === '*' ? '*' : `${method} ${spec['path']}`;
    }
    throw new ServerlessConfigError('expected a route string or {method, path}', path);
  }

  private sqsEvent(name: string, handler: HandlerRef, timeoutSeconds: number, spec: unknown, path: string): SqsFunctionWiring | undefined {
    const s: Obj = isObject(spec) ? spec : { arn: spec };
    if (s['enabled'] === false) return undefined;
    const batchSize = this.number(s['batchSize'], 10, `${path}.batchSize`);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) throw new ServerlessConfigError('batchSize must be 1..10000', `${path}.batchSize`);
    const responseType = s['functionResponseType'];
    if (responseType !== undefined && responseType !== 'ReportBatchItemFailures') {
      throw new ServerlessConfigError(`unknown functionResponseType ${JSON.stringify(responseType)}`, `${path}.functionResponseType`);
    }
    const out: SqsFunctionWiring = {
      name,
      handler,
      queue: this.queueFromArn(s['arn'], `${path}.arn`),
      batchSize,
      maximumBatchingWindowSeconds: this.number(s['maximumBatchingWindow'], 0, `${path}.maximumBatchingWindow`),
      reportBatchItemFailures: responseType === 'ReportBatchItemFailures',
      timeoutSeconds,
    };
    const filters = s['filterPatterns'];
    if (filters !== undefined) {
      if (!Array.isArray(filters)) throw new ServerlessConfigError('must be a list', `${path}.filterPatterns`);
      out.filterPatterns = filters.map((f, i) => {
        try {
          validatePattern(f);
        } catch (err) {
          throw new ServerlessConfigError((err as Error).message, `${path}.filterPatterns.${i}`);
        }
        return f;
      });
    }
    return out;
  }

  private scheduleEvent(name: string, handler: HandlerRef, timeoutSeconds: number, spec: unknown, path: string): ScheduledFunctionWiring | undefined {
    const s: Obj = isObject(spec) ? spec : { rate: spec };
    if (s['enabled'] === false) return undefined;
    const rates = Array.isArray(s['rate']) ? s['rate'] : [s['rate']];
    if (rates.length !== 1) throw new ServerlessConfigError('exactly one rate per schedule event is supported locally', `${path}.rate`);
    const out: ScheduledFunctionWiring = { name, handler, rateSeconds: parseRate(rates[0], `${path}.rate`), timeoutSeconds };
    if (s['input'] !== undefined) out.input = s['input'];
    return out;
  }

  private environment(wiring: LocalWiring, tables: TableWiring[], buses: LocalWiring['buses']): void {
    const env = this.r.get('provider.environment') ?? {};
    if (!isObject(env)) throw new ServerlessConfigError('must be a mapping', 'provider.environment');
    for (const [key, value] of Object.entries(env)) {
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        wiring.environment[key] = String(value);
        continue;
      }
      const ref = refOf(value);
      const table = ref ? tables.find((t) => t.logicalId === ref) : undefined;
      const bus = ref ? buses.find((b) => b.logicalId === ref) : undefined;
      if (table) wiring.environment[key] = table.tableName;
      else if (bus) wiring.environment[key] = bus.name;
      else wiring.omittedEnvironment.push(key); // e.g. Ref of the KMS key: no local value
    }
  }
}

function refOf(value: unknown): string | undefined {
  if (isObject(value) && Object.keys(value).length === 1 && typeof value['Ref'] === 'string') return value['Ref'];
  return undefined;
}

/** `Fn::GetAtt: [X, Attr]` or `Fn::GetAtt: X.Attr` with Attr in `attrs` → X. */
function getAttOf(value: unknown, attrs: string[]): string | undefined {
  if (!isObject(value) || Object.keys(value).length !== 1) return undefined;
  const g = value['Fn::GetAtt'];
  const parts = Array.isArray(g) ? g : typeof g === 'string' ? g.split('.') : undefined;
  if (parts && parts.length === 2 && typeof parts[0] === 'string' && attrs.includes(parts[1] as string)) return parts[0];
  return undefined;
}

const RATE_UNITS: Record<string, number> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };

/** `rate(1 minute)` → 60. EventBridge rates have no seconds unit; cron() is not supported locally. */
export function parseRate(expr: unknown, path = 'rate'): number {
  const m = typeof expr === 'string' ? /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expr.trim()) : null;
  const n = m ? Number(m[1]) : 0;
  const unit = m ? (m[2] as string) : '';
  // Like EventBridge: "1 minute" and "5 minutes", never "1 minutes" or "5 minute".
  if (!m || n < 1 || (n === 1) === unit.endsWith('s')) {
    throw new ServerlessConfigError(
      `cannot run schedule ${JSON.stringify(expr)} locally: expected rate(1 minute|hour|day) or rate(<n> minutes|hours|days); cron() is not supported`,
      path,
    );
  }
  return n * (RATE_UNITS[unit] as number);
}
