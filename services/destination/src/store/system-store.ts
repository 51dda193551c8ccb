/**
 * Small records the destination service keeps beside destinations: API idempotency keys for
 * `POST /api/destinations` and the projection of the contribution flow's state (answered by
 * `GET /api/mediaconnect/flow/status`, fed by flow-output's events).
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, storeError } from '../../../../shared/store/dynamo.ts';

export interface IdempotencyKeyRecord {
  pk: string;
  requestHash: string;
  destinationId: string;
  createdAt: string;
  /** Epoch seconds; keys are honoured for 24 hours. */
  expiration: number;
  /** Set once the destination exists: a later replay whose destination is gone was deleted, not half-made. */
  completed?: boolean;
}

export interface FlowStatusRecord {
  pk: 'flow#primary';
  flowArn: string;
  state: string;
  sourceConnected: boolean;
  sourceAddress: string | null;
  connectedSince: string | null;
  outputs: number;
  /** The always-on primary channel as flow-output last reported it (null: the engine has none; absent: never reported). */
  primary?: { channelId: string | null; state: string | null; error: { code: string; message: string; hint: string } | null } | null;
  updatedAt: string;
}

export class SystemStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Claims an idempotency key; returns the existing record when the key was used before. */
  async claimIdempotencyKey(rec: IdempotencyKeyRecord): Promise<IdempotencyKeyRecord | null> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: rec,
          ConditionExpression: 'attribute_not_exists(pk) OR expiration < :now',
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return null;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) return storeError(err);
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: rec.pk }, ConsistentRead: true }));
      return out.Item as IdempotencyKeyRecord;
    }
  }

  async completeIdempotencyKey(pk: string): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { pk }, UpdateExpression: 'SET completed = :t', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':t': true } }));
    } catch (err) {
      if (!isConditionalCheckFailed(err)) storeError(err);
    }
  }

  async getFlowStatus(): Promise<FlowStatusRecord | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pk: 'flow#primary' }, ConsistentRead: true }));
      return out.Item as FlowStatusRecord | undefined;
    } catch (err) {
      return storeError(err);
    }
  }

  /** Records the flow state unless a newer observation is already stored. */
  async putFlowStatus(rec: FlowStatusRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: rec,
          ConditionExpression: 'attribute_not_exists(pk) OR updatedAt <= :at',
          ExpressionAttributeValues: { ':at': rec.updatedAt },
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) storeError(err);
    }
  }
}
