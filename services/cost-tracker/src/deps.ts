/**
 * What cost-tracker's handlers need (DEPS-CONVENTION: no service locator). Built by the runtimes:
 * `shared/runtimes/aws/cost-tracker.ts` on Lambda, the local runtime's cost-tracker wiring locally.
 * Typed only with the shared libraries; the service never imports `shared/runtimes/`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PricingClient } from '@aws-sdk/client-pricing';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiAuth } from '../../../shared/auth/api-auth.ts';
import type { EventPublisher } from '../../../shared/events/publisher.ts';
import type { Logger } from '../../../shared/logging/logger.ts';

/** A process of the local media engine, as `GET /api/admin/engine/processes` lists it. */
export interface EngineProcessInfo {
  /** Its name in the engine's list (`publisher-<channelId>` for an RTMP publisher). */
  name?: string;
  role: string;
  pid: number | null;
  /** The channels the process works for (an encoder shared by a preset: all of them). */
  channelIds: string[];
  /**
   * Work done inside Fanout's own process (pid null: the RTMP publishers), measured by the engine
   * itself: the CPU seconds it used so far and what identifies this run of it (a new `start`
   * counts from zero, like a new pid). Absent: nothing measured, not attributed.
   */
  cpu?: { start: string; seconds: number };
}

export interface CostTrackerDeps {
  doc: DynamoDBDocumentClient;
  /** Idempotency records of the inbox (Powertools, DynamoDB persistence). */
  idempotency: { client: DynamoDBClient; tableName: string };
  publisher: EventPublisher;
  log: Logger;
  tables: { costs: string; destinations: string; presets: string };
  /** Which engine the sessions run on: `local` prices CPU time of processes, `aws` MediaLive/MediaConnect. */
  engine: 'aws' | 'local';
  /** The time zone of days and months (FANOUT_COST_TIME_ZONE). */
  timeZone: string;
  /** How long observations may arrive out of order before a session settles (ms). */
  settleMs: number;
  /** Local engine: the machine's cost per hour (USD) and its cores. */
  local: { machineHourUsd: number; cores: number };
  /** The stack's primary MediaLive channel (its native state events are the primary's sessions). */
  primaryChannelId?: string;
  /** Local engine: its processes with their pids (CPU time is read from /proc/<pid>/stat). */
  processes?: () => EngineProcessInfo[];
  /**
   * AWS: the Price List API (`GetProducts`) and the Region whose products are read, for the rate
   * refresh (app/price-list-refresh.ts). Absent: a refresh is PRICE_LIST_UNAVAILABLE.
   */
  priceList?: { client: Pick<PricingClient, 'send'>; region: string };
  /** The process's one authentication (the API's routes). */
  auth?: ApiAuth;
  now?: () => Date;
}
