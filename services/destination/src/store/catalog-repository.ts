/**
 * Platforms and presets in DynamoDB: one small generic repository for both (they are read often,
 * written rarely by admins). Built-ins are seeded once with conditional puts, so admins' edits of
 * a built-in are never overwritten by a later start.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError, type ErrorCode } from '../../../../shared/errors/index.ts';
import { isConditionalCheckFailed, scanAll, storeError } from '../../../../shared/store/dynamo.ts';
import { stamp, upgrade, type RecordSchema } from '../../../../shared/store/schema-version.ts';

interface Versioned {
  version: number;
}

export class CatalogRepository<T extends Versioned> {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly keyName: keyof T & string,
    private readonly notFound: ErrorCode,
    /** The records' stored shape: read items are upgraded to it, written ones stamped with it. */
    readonly schema: RecordSchema,
  ) {}

  async seed(items: readonly T[]): Promise<void> {
    for (const item of items) {
      try {
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: stamp(this.schema, item), ConditionExpression: `attribute_not_exists(#k)`, ExpressionAttributeNames: { '#k': this.keyName } }));
      } catch (err) {
        if (!isConditionalCheckFailed(err)) storeError(err);
      }
    }
  }

  async get(id: string): Promise<T | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [this.keyName]: id }, ConsistentRead: true }));
      return out.Item ? upgrade<T>(this.schema, out.Item) : undefined;
    } catch (err) {
      return storeError(err);
    }
  }

  async require(id: string): Promise<T> {
    const item = await this.get(id);
    if (!item) throw new AppError(this.notFound, `No ${this.keyName.replace(/Id$/, '')} with id ${id}.`, { id });
    return item;
  }

  async list(): Promise<T[]> {
    try {
      return (await scanAll<Record<string, unknown>>(this.doc, { TableName: this.tableName, ConsistentRead: true })).map((i) => upgrade<T>(this.schema, i));
    } catch (err) {
      return storeError(err);
    }
  }

  async create(item: T): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: stamp(this.schema, item), ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': this.keyName } }));
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new AppError('ALREADY_EXISTS', `${String(item[this.keyName])} already exists.`, { id: item[this.keyName] });
      storeError(err);
    }
  }

  /** Replaces an item whose stored version is `item.version - 1`. */
  async replace(item: T): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: stamp(this.schema, item),
          ConditionExpression: 'attribute_exists(#k) AND #v = :expected',
          ExpressionAttributeNames: { '#k': this.keyName, '#v': 'version' },
          ExpressionAttributeValues: { ':expected': item.version - 1 },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        const current = await this.get(String(item[this.keyName]));
        if (!current) throw new AppError(this.notFound, `No item with id ${String(item[this.keyName])}.`);
        throw new AppError('VERSION_CONFLICT', `Changed by someone else (now version ${current.version}).`, { currentVersion: current.version });
      }
      storeError(err);
    }
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [this.keyName]: id },
          ConditionExpression: 'attribute_exists(#k) AND #v = :expected',
          ExpressionAttributeNames: { '#k': this.keyName, '#v': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) throw new AppError('VERSION_CONFLICT', 'Changed by someone else; fetch it again and retry.');
      storeError(err);
    }
  }
}
