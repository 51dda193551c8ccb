/**
 * Schema versions of stored records (ADR 0017). Every record a store writes carries
 * `schemaVersion`, the version of the shape it was written in; a record without one was written
 * before versions existed and is version 1. A newer Fanout reads what an older one wrote:
 *
 *   - on read, a record is upgraded in memory through each step from its version to the current
 *     one (steps are pure functions of the record, so reading never fails on an old record);
 *   - at start-up (the local runtime; on AWS the scheduled outbox relay, once per container),
 *     `migrateTable` rewrites every older record in place, so readers that do not upgrade (another
 *     service's read model) see the current shape too; each rewrite is conditional on the record's
 *     own `version`, so a write racing the migration wins and the migration skips that record
 *     (the write stamped the current version anyway);
 *   - a record newer than this code (written by a later Fanout) is never guessed at: reading it is
 *     STORE_SCHEMA_TOO_NEW, and the local runtime refuses to start on such a data dir.
 *
 * `schemaVersion` is the store's business: repositories strip it from what they return and stamp
 * it on what they write, so domain types and API responses never see it.
 */
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../errors/index.ts';
import { isConditionalCheckFailed } from './dynamo.ts';

/** A record shape's version and how to reach it from every older one. */
export interface RecordSchema {
  /** What the records are, for messages (e.g. "destination"). */
  name: string;
  /** The version this code writes. */
  version: number;
  /** `steps[n]` turns a record of version n into one of version n + 1 (pure, never throws). */
  steps: Readonly<Record<number, (record: Record<string, unknown>) => Record<string, unknown>>>;
}

export const SCHEMA_VERSION_FIELD = 'schemaVersion';

/** The version a stored item was written in (1 when it predates versions). */
export function versionOf(item: Record<string, unknown>): number {
  const v = item[SCHEMA_VERSION_FIELD];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

/**
 * The item in the current shape, without `schemaVersion`.
 * @throws AppError STORE_SCHEMA_TOO_NEW for an item written by a newer Fanout
 */
export function upgrade<T>(schema: RecordSchema, item: Record<string, unknown>): T {
  const from = versionOf(item);
  if (from > schema.version)
    throw new AppError('STORE_SCHEMA_TOO_NEW', `A ${schema.name} record is at schema version ${from}; this Fanout reads up to ${schema.version}.`, {
      recordSchemaVersion: from,
      supportedSchemaVersion: schema.version,
    });
  let out: Record<string, unknown> = { ...item };
  delete out[SCHEMA_VERSION_FIELD];
  for (let v = from; v < schema.version; v++) {
    const step = schema.steps[v];
    if (step) out = step(out);
  }
  return out as T;
}

/** The item to write: the record in the current shape, stamped with its version. */
export function stamp<T extends object>(schema: RecordSchema, record: T): T & { schemaVersion: number } {
  return { ...record, [SCHEMA_VERSION_FIELD]: schema.version } as T & { schemaVersion: number };
}

export interface MigrationReport {
  table: string;
  scanned: number;
  migrated: number;
  /** Records another writer changed during the migration (they carry the current version already). */
  skipped: number;
}

/**
 * Rewrites every record of `table` older than `schema.version` in place (only the attributes the
 * steps changed, plus `schemaVersion`; everything else, an outbox included, stays as it is).
 * Idempotent: a second run migrates nothing.
 * @throws AppError STORE_SCHEMA_TOO_NEW when the table holds a record newer than this code
 */
export async function migrateTable(doc: DynamoDBDocumentClient, table: string, keyName: string, schema: RecordSchema): Promise<MigrationReport> {
  const report: MigrationReport = { table, scanned: 0, migrated: 0, skipped: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of (page.Items ?? []) as Record<string, unknown>[]) {
      report.scanned++;
      const from = versionOf(item);
      if (from === schema.version && item[SCHEMA_VERSION_FIELD] !== undefined) continue;
      const next = upgrade<Record<string, unknown>>(schema, item);
      const names: Record<string, string> = { '#sv': SCHEMA_VERSION_FIELD };
      const values: Record<string, unknown> = { ':sv': schema.version };
      const sets = ['#sv = :sv'];
      const removes: string[] = [];
      let i = 0;
      for (const key of new Set([...Object.keys(next), ...Object.keys(item)])) {
        if (key === keyName || key === SCHEMA_VERSION_FIELD) continue;
        const before = item[key];
        const after = next[key];
        if (JSON.stringify(before) === JSON.stringify(after)) continue;
        names[`#a${i}`] = key;
        if (after === undefined) removes.push(`#a${i}`);
        else {
          values[`:a${i}`] = after;
          sets.push(`#a${i} = :a${i}`);
        }
        i++;
      }
      const versioned = typeof item.version === 'number';
      if (versioned) {
        names['#v'] = 'version';
        values[':v'] = item.version;
      }
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { [keyName]: item[keyName] },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: versioned ? '#v = :v' : `attribute_exists(#k)`,
            ExpressionAttributeNames: versioned ? names : { ...names, '#k': keyName },
            ExpressionAttributeValues: values,
          }),
        );
        report.migrated++;
      } catch (err) {
        if (!isConditionalCheckFailed(err)) throw err;
        report.skipped++;
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return report;
}
