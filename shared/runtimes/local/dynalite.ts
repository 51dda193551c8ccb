/**
 * The embedded DynamoDB: dynalite (DynamoDB's API on LevelDB) on a loopback port, persisted under
 * the data dir, with the tables created from their definitions in serverless.yml.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, ListTablesCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { TableWiring } from './serverless-config.ts';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite; `path` undefined keeps everything in memory (tests). */
export async function startDynalite(path: string | undefined): Promise<EmbeddedDynamo> {
  if (path) mkdirSync(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

/** Creates every table of the wiring that does not exist yet. */
export async function ensureTables(client: DynamoDBClient, tables: readonly TableWiring[]): Promise<void> {
  const existing = new Set((await client.send(new ListTablesCommand({}))).TableNames ?? []);
  for (const t of tables) {
    if (existing.has(t.tableName)) continue;
    await client.send(
      new CreateTableCommand({
        TableName: t.tableName,
        KeySchema: t.keySchema,
        AttributeDefinitions: t.attributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(t.globalSecondaryIndexes ? { GlobalSecondaryIndexes: t.globalSecondaryIndexes as never } : {}),
      }),
    );
  }
}
