/**
 * The DynamoDB client every store uses: real DynamoDB on AWS, the embedded dynalite locally
 * (same SDK, same requests; only the endpoint differs). Conditional-check failures are turned
 * into domain errors by the repositories, never passed up raw.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';

export interface DynamoOptions {
  region: string;
  endpoint?: string;
}

export function createDynamoClient(opts: DynamoOptions): DynamoDBClient {
  const client = new DynamoDBClient({
    region: opts.region,
    ...(opts.endpoint
      ? // dynalite accepts any credentials; the SDK still wants some to sign with.
        { endpoint: opts.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  // No SDK logger is configured, yet the SDK's logger middleware still copies every request and
  // answer through its sensitive-data filter before handing them to the no-op logger: ~6 % of the
  // CPU of a 100-item list page (ADR 0025). Fanout logs its own store errors (storeError).
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

export function isConditionalCheckFailed(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Maps infrastructure failures (network, throttling after the SDK's retries) to STORE_UNAVAILABLE. */
export function storeError(err: unknown): never {
  if (err instanceof AppError) throw err;
  const name = (err as { name?: string })?.name ?? '';
  if (/Throttl|ProvisionedThroughput|ServiceUnavailable|ECONNREFUSED|TimeoutError|RequestLimitExceeded/i.test(name + String(err))) throw new AppError('STORE_UNAVAILABLE', 'The database did not answer; retry shortly.');
  throw err;
}

/** Every item of a scan, following the pages (a page stops at 1 MB). */
export async function scanAll<T>(doc: DynamoDBDocumentClient, input: Omit<ScanCommandInput, 'ExclusiveStartKey'>): Promise<T[]> {
  const out: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ ...input, ExclusiveStartKey: startKey }));
    out.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return out;
}
