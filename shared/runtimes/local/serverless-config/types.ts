/**
 * What the serverless.yml loader produces (the local wiring: tables, queues, rules, functions,
 * environment) and takes (LoadOptions), and the one error it throws, naming the path.
 */
import type { EventPattern } from '../event-pattern.ts';

export class ServerlessConfigError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
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
