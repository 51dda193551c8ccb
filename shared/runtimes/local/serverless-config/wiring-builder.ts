/**
 * Builds the local wiring from a resolved serverless.yml: tables (key schemas, GSIs, TTL), queues
 * (visibility timeout, delay, redrive to a DLQ), EventBridge rules and their SQS targets, the
 * functions (SQS event sources with batching and filters, schedules, HTTP API routes) and the
 * provider environment. Only the resource types and properties the local runtime can honour are
 * accepted; anything else is a ServerlessConfigError naming its path.
 */
import { validatePattern } from '../event-pattern.ts';
import { isObject, type Obj, type Resolver } from './resolver.ts';
import { ServerlessConfigError, type HandlerRef, type LocalWiring, type QueueWiring, type RuleWiring, type ScheduledFunctionWiring, type SqsFunctionWiring, type TableWiring } from './types.ts';

/** `shared/runtimes/aws/x.inbox` → `{ file: 'shared/runtimes/aws/x.ts', exportName: 'inbox' }`. */
export function handlerRef(handler: string): HandlerRef {
  const dot = handler.lastIndexOf('.');
  const slash = handler.lastIndexOf('/');
  if (dot <= 0 || dot < slash || dot === handler.length - 1) {
    throw new ServerlessConfigError(`handler "${handler}" is not of the form path/to/file.exportName`);
  }
  return { file: `${handler.slice(0, dot)}.ts`, exportName: handler.slice(dot + 1) };
}

const SUPPORTED_RESOURCE_TYPES = new Set(['AWS::Events::EventBus', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::Events::Rule']);

export class WiringBuilder {
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
      throw new ServerlessConfigError('rules without an EventPattern (ScheduleExpression rules) are not supported locally; use a function `schedule` event', at);
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
        throw new ServerlessConfigError('function-level environment is not supported: all functions share one process locally; use provider.environment', `${at}.environment`);
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
    throw new ServerlessConfigError(`cannot run schedule ${JSON.stringify(expr)} locally: expected rate(1 minute|hour|day) or rate(<n> minutes|hours|days); cron() is not supported`, path);
  }
  return n * (RATE_UNITS[unit] as number);
}
