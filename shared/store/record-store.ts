/**
 * A small versioned record store for a service's own table: get, list, conditional put (new, or
 * replacing a known version), delete. Used by flow-output (outputs) and channel-provisioner
 * (channels); a lost race surfaces as VERSION_CONFLICT and the SQS retry runs the step again.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { isConditionalCheckFailed, scanAll } from './dynamo.ts';
import { stamp, upgrade, type RecordSchema } from './schema-version.ts';

export interface VersionedRecord {
  version: number;
}

export class RecordStore<T extends VersionedRecord> {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly keyName: keyof T & string,
    /** The records' stored shape (ADR 0012): version 1 with no upgrades unless a service says otherwise. */
    readonly schema: RecordSchema = { name: tableName, version: 1, steps: {} },
  ) {}

  async get(key: string): Promise<T | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [this.keyName]: key }, ConsistentRead: true }));
    return out.Item ? upgrade<T>(this.schema, out.Item) : undefined;
  }

  async list(): Promise<T[]> {
    return (await scanAll<Record<string, unknown>>(this.doc, { TableName: this.tableName, ConsistentRead: true })).map((i) => upgrade<T>(this.schema, i));
  }

  async queryIndex(indexName: string, attribute: string, value: string): Promise<T[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#a = :v',
        ExpressionAttributeNames: { '#a': attribute },
        ExpressionAttributeValues: { ':v': value },
      }),
    );
    return (out.Items ?? []).map((i) => upgrade<T>(this.schema, i));
  }

  /** Writes `next`: new when `next.version === 1`, else replacing version `next.version - 1`. */
  async put(next: T): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand(
          next.version === 1
            ? { TableName: this.tableName, Item: stamp(this.schema, next), ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': this.keyName } }
            : {
                TableName: this.tableName,
                Item: stamp(this.schema, next),
                ConditionExpression: '#v = :expected',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':expected': next.version - 1 },
              },
        ),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new AppError('VERSION_CONFLICT', `${this.tableName}: ${String(next[this.keyName])} changed concurrently.`);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [this.keyName]: key } }));
  }
}
