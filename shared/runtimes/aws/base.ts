/**
 * What every Lambda entry of the AWS runtime builds its service's dependencies from: the settings
 * a function cannot run without, the DynamoDB clients, the EventBridge publisher, the KMS cipher,
 * and the shapes Lambda calls (a handler built on first invocation, once per container; the API
 * Gateway v2 adapter). Construction only: no AWS call is made until a handler uses a client. The
 * media engine is in engine.ts, so that an entry that does not need it (the destination service)
 * does not bundle it.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import type { Hono } from 'hono';
import type { Config } from '../../config/index.ts';
import { EventBridgePublisher, type EventPublisher } from '../../events/publisher.ts';
import type { SecretCipher } from '../../secrets/cipher.ts';
import { KmsCipher } from '../../secrets/kms-cipher.ts';
import { createDocumentClient, createDynamoClient } from '../../store/dynamo.ts';

/** A setting of Config and the variable serverless.yml sets it with. */
export type RequiredSetting = readonly [keyof Config, string];

export const KMS_SETTING = ['kmsKeyId', 'FANOUT_KMS_KEY_ID'] as const satisfies RequiredSetting;

/**
 * Refuses to build a service without the settings it needs, naming every missing one at once
 * (serverless.yml sets all of them from the stack's resources).
 */
export function requireSettings(cfg: Config, required: readonly RequiredSetting[]): void {
  const missing = required.filter(([key]) => !cfg[key]).map(([, env]) => env);
  if (missing.length === 0) return;
  throw new Error(`The aws runtime needs ${missing.join(', ')} (serverless.yml sets ${missing.length === 1 ? 'it' : 'them'} from the stack's resources; ` + 'a function deployed without them was deployed from another template).');
}

export function awsStore(cfg: Config): { dynamo: DynamoDBClient; doc: DynamoDBDocumentClient } {
  const dynamo = createDynamoClient({ region: cfg.awsRegion, ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}) });
  return { dynamo, doc: createDocumentClient(dynamo) };
}

export function awsPublisher(cfg: Config): EventPublisher {
  return new EventBridgePublisher(new EventBridgeClient({ region: cfg.awsRegion }), cfg.eventBus);
}

/** The stream-key cipher (KMS); needs FANOUT_KMS_KEY_ID (`requireSettings` with KMS_SETTING first). */
export function awsCipher(cfg: Config): SecretCipher {
  return KmsCipher.create(cfg.kmsKeyId!, cfg.awsRegion);
}

/** `make()` on the first call, its result every call after (one per container). */
export function once<T>(make: () => T): () => T {
  let value: { v: T } | undefined;
  return () => {
    value ??= { v: make() };
    return value.v;
  };
}

/** A handler built on its first invocation (so importing an entry builds nothing). */
export function lazyHandler<A extends unknown[], R>(make: () => (...args: A) => R): (...args: A) => R {
  const get = once(make);
  return (...args) => get()(...args);
}

/**
 * A Hono app as the handler of an API Gateway HTTP API (payload v2) function. `prepare` runs once,
 * before the first request is answered (the destination API seeds built-ins there).
 */
export function httpApiHandler(makeApp: () => Hono<any>, prepare?: () => Promise<void>, after?: () => void) {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  let ready: Promise<ReturnType<typeof handle>> | undefined;
  return async (event: APIGatewayProxyEventV2, context: Context) => {
    ready ??= (async () => {
      await prepare?.();
      return handle(makeApp());
    })();
    ready.catch(() => (ready = undefined));
    const lambdaHandler = await ready;
    // hono types the v2 body as `string | null`; API Gateway omits it for GET requests.
    try {
      return await lambdaHandler({ ...event, body: event.body ?? null } as unknown as Parameters<ReturnType<typeof handle>>[0], context);
    } finally {
      after?.(); // e.g. the request's EMF metric line
    }
  };
}
