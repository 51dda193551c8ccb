/**
 * The read model other services use to look at a destination (the destination service owns and
 * writes the records; events carry only ids). channel-provisioner reads the ingest URL, preset and
 * the encrypted stream key here, and decrypts the key only to hand it to the engine. The destination's
 * type is the stored record's (./destination-record.ts), which the destination service writes.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DestinationReadModel } from './destination-record.ts';
import { scanAll } from './dynamo.ts';

export type { DestinationReadModel } from './destination-record.ts';

export interface PresetReadModel {
  presetId: string;
  type: 'generic' | 'platform' | 'passthrough';
  video: { resolution: string; frameRate: number; bitrate: number; profile: 'baseline' | 'main' | 'high'; level: string; keyframeInterval: number } | null;
  audio: { bitrate: number; sampleRate: number; channels: number } | null;
}

export class DestinationReader {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly destinationsTable: string,
    private readonly presetsTable: string,
  ) {}

  /** The destination, or undefined when it does not exist or is already deleted. */
  async get(destinationId: string): Promise<DestinationReadModel | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.destinationsTable, Key: { destinationId }, ConsistentRead: true }));
    const item = out.Item as DestinationReadModel | undefined;
    return item && !item.tombstone ? item : undefined;
  }

  async list(): Promise<DestinationReadModel[]> {
    const items = await scanAll<DestinationReadModel>(this.doc, { TableName: this.destinationsTable, ConsistentRead: true });
    return items.filter((item) => !item.tombstone);
  }

  async preset(presetId: string): Promise<PresetReadModel | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.presetsTable, Key: { presetId }, ConsistentRead: true }));
    return out.Item as PresetReadModel | undefined;
  }
}
