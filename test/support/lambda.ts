/**
 * What the Lambda tests hand the handlers: an API Gateway HTTP API (payload v2) event and a
 * Lambda context, shaped as API Gateway and the Lambda runtime give them, and the environment a
 * Lambda of the stack gets.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { loadServerlessConfig } from '../../shared/runtimes/local/serverless-config.ts';

const HOST = 'abc.execute-api.eu-west-1.amazonaws.com';

export interface HttpEventOptions {
  /** Sent as `Authorization: Bearer <token>`; none when absent. */
  token?: string;
  /** JSON-encoded into the body, with `content-type: application/json`. */
  body?: unknown;
  /** The raw query string, without `?`. */
  query?: string;
  /** `$default` unless given (the stack's catch-all route), e.g. `GET /api/cost`. */
  routeKey?: string;
  sourceIp?: string;
}

/** An HTTP API v2 event for `method path`. */
export function httpEvent(method: string, path: string, o: HttpEventOptions = {}): APIGatewayProxyEventV2 {
  const routeKey = o.routeKey ?? '$default';
  const json = o.body !== undefined;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: o.query ?? '',
    headers: { host: HOST, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) },
    requestContext: {
      accountId: '111122223333',
      apiId: 'abc',
      domainName: HOST,
      domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: o.sourceIp ?? '203.0.113.9', userAgent: 'test' },
      requestId: 'r1',
      routeKey,
      stage: '$default',
      time: '21/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795255200000,
    },
    isBase64Encoded: false,
    ...(json ? { body: JSON.stringify(o.body) } : {}),
  };
}

/** A Lambda context of the function `functionName` with 25 s left. */
export function lambdaContext(functionName: string): Context {
  return { functionName, awsRequestId: 'req-1', getRemainingTimeInMillis: () => 25_000 } as unknown as Context;
}

/** A KMS key id of the test account (the AWS runtime requires one; nothing reaches KMS). */
export const TEST_KMS_KEY_ID = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * The environment a Lambda of the `dev` stage gets from serverless.yml, pointed at a local
 * DynamoDB (dynalite) at `dynamoEndpoint`, with `extra` on top.
 */
export function lambdaEnvironment(dynamoEndpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...loadServerlessConfig({ stage: 'dev' }).environment,
    FANOUT_RUNTIME: 'aws',
    FANOUT_LOG_LEVEL: 'WARN',
    FANOUT_DYNAMODB_ENDPOINT: dynamoEndpoint,
    FANOUT_KMS_KEY_ID: TEST_KMS_KEY_ID,
    ...extra,
  };
}
