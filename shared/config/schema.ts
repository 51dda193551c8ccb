/**
 * The one configuration schema. Every setting is declared here once: its environment variable,
 * its default, how it is validated and whether it is secret. `loadConfig` reads the environment
 * (the only place in the codebase that touches `process.env`), reports every problem at once and
 * returns a frozen object.
 */
import { z } from 'zod';
import { isValidAllowEntry } from '../net/egress.ts';

export interface SettingSpec<T extends z.ZodType> {
  /** Environment variable that sets it. */
  env: string;
  schema: T;
  /** Secrets are never printed, logged or echoed in error messages. */
  secret?: boolean;
  description: string;
  /**
   * A default that depends on other settings (e.g. on `runtime`): used when the variable is unset
   * and the schema gives `undefined`. Shown in docs as the default's rule.
   */
  derive?: (cfg: Record<string, unknown>) => z.output<T>;
}

const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

function setting<T extends z.ZodType, S extends SettingSpec<T> = SettingSpec<T>>(spec: S & SettingSpec<T>): S {
  return spec;
}

/** Declaration order is the order `--help`-style listings and docs use. */
export const settings = {
  runtime: setting({
    env: 'FANOUT_RUNTIME',
    schema: z.enum(['local', 'aws']).default('local'),
    description: 'local: everything in one process (dynalite, in-process bus, local media engine); aws: Lambda.',
  }),
  host: setting({
    env: 'FANOUT_HOST',
    schema: z.string().min(1).default('127.0.0.1'),
    description: 'Address the local HTTP server listens on.',
  }),
  port: setting({
    env: 'FANOUT_PORT',
    schema: z.coerce.number().int().min(0).max(65535).default(8080),
    description: 'Port of the local HTTP server (0 picks a free port).',
  }),
  dataDir: setting({
    env: 'FANOUT_DATA_DIR',
    schema: z.string().min(1).default('./data'),
    description: 'Where the local runtime keeps its database, key file and media segments.',
  }),
  adminToken: setting({
    env: 'FANOUT_ADMIN_TOKEN',
    schema: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    secret: true,
    description: 'Admin bearer token. Unset: one is generated at first start, printed once and stored hashed.',
  }),
  srtHost: setting({
    env: 'FANOUT_SRT_HOST',
    schema: z.string().min(1).default('0.0.0.0'),
    description: 'Address the SRT listener binds (0.0.0.0: encoders on other machines can reach it; the passphrase protects it).',
  }),
  srtPort: setting({ env: 'FANOUT_SRT_PORT', schema: port.default(9998), description: 'SRT listener port for the contribution feed.' }),
  srtPassphrase: setting({
    env: 'FANOUT_SRT_PASSPHRASE',
    schema: optionalString.pipe(
      z
        .string()
        .min(10, 'must be 10 to 79 characters')
        .max(79, 'must be 10 to 79 characters')
        // Encoders take it in an srt:// URI, often without percent-decoding: the engine's SRT_PASSPHRASE_PATTERN.
        .regex(/^[A-Za-z0-9!$()*+,\-./:;=@[\]^_{|}~]+$/, 'may use letters, digits and !$()*+,-./:;=@[]^_{|}~ (no spaces, quotes or & # ? %)')
        .optional(),
    ),
    secret: true,
    description: 'SRT passphrase (10-79 characters) the encoder must use. Unset: generated at first start and stored in the data dir.',
  }),
  srtBackupPort: setting({
    env: 'FANOUT_SRT_BACKUP_PORT',
    schema: z.coerce.number().int().min(0).max(65535).default(9999),
    description: 'SRT listener port of the backup input (a second encoder; automatic failover, issue 15). 0: no backup input.',
  }),
  srtBackupPassphrase: setting({
    env: 'FANOUT_SRT_BACKUP_PASSPHRASE',
    schema: optionalString.pipe(
      z
        .string()
        .min(10, 'must be 10 to 79 characters')
        .max(79, 'must be 10 to 79 characters')
        .regex(/^[A-Za-z0-9!$()*+,\-./:;=@[\]^_{|}~]+$/, 'may use letters, digits and !$()*+,-./:;=@[]^_{|}~ (no spaces, quotes or & # ? %)')
        .optional(),
    ),
    secret: true,
    description: "The backup input's own SRT passphrase (same rules as FANOUT_SRT_PASSPHRASE). Unset: the main's.",
  }),
  slateImage: setting({
    env: 'FANOUT_SLATE_IMAGE',
    schema: optionalString,
    description: 'An image (PNG or JPEG path) the slate shows while no input delivers. Unset: a generated card "We\u2019ll be right back".',
  }),
  srtKeyLength: setting({
    env: 'FANOUT_SRT_KEY_LENGTH',
    schema: z.coerce
      .number()
      .pipe(z.union([z.literal(16), z.literal(24), z.literal(32)]))
      .default(16),
    description: 'SRT AES key length in bytes: 16, 24 or 32.',
  }),
  x264Preset: setting({
    env: 'FANOUT_X264_PRESET',
    schema: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
    description: "x264 speed/quality preset of the local engine's encoders (faster presets use less CPU).",
  }),
  logLevel: setting({
    env: 'FANOUT_LOG_LEVEL',
    schema: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
    description: 'Log level.',
  }),
  logFormat: setting({
    env: 'FANOUT_LOG_FORMAT',
    schema: z.enum(['auto', 'json', 'pretty']).default('auto'),
    description: "auto: readable lines on a terminal, JSON lines when stdout is not one (systemd's journal, a pipe, a file, Lambda); json or pretty to choose. Secrets are scrubbed from both.",
  }),
  rateLimitPerMinute: setting({
    env: 'FANOUT_RATE_LIMIT_PER_MINUTE',
    schema: z.coerce.number().int().min(1).default(600),
    description: 'API requests allowed per token per minute (burst up to the same number).',
  }),
  authFailuresPerMinute: setting({
    env: 'FANOUT_AUTH_FAILURES_PER_MINUTE',
    schema: z.coerce.number().int().min(1).default(30),
    description:
      'Failed authentications (no token, wrong token) allowed per client address per minute (burst up to the same number); past it, ' +
      'requests from that address that need a token get 429 AUTH_RATE_LIMITED until the budget refills. docs/security.md.',
  }),
  trustedProxyHops: setting({
    env: 'FANOUT_TRUSTED_PROXY_HOPS',
    schema: z.coerce.number().int().min(0).max(10).default(0),
    description:
      'How many proxies you run in front of the API, each appending to X-Forwarded-For. 0 (the default): the header is ignored and the ' +
      "client address is the connection's (locally) or API Gateway's sourceIp (AWS). Set it only when such proxies really are there: " +
      'otherwise any client can pick its own address for the failed-authentication limit.',
  }),
  sseStreamsPerToken: setting({
    env: 'FANOUT_SSE_STREAMS_PER_TOKEN',
    schema: z.coerce.number().int().min(1).max(1000).default(20),
    description: 'Live event streams (GET /api/events) one token may hold open at once; one more is refused with 429 TOO_MANY_STREAMS.',
  }),
  egressAllowPrivate: setting({
    env: 'FANOUT_EGRESS_ALLOW_PRIVATE',
    schema: optionalString.pipe(z.enum(['on', 'off']).optional()).transform((v) => (v === undefined ? undefined : v === 'on')),
    derive: (cfg) => cfg.runtime === 'local',
    description:
      'Destinations may point at loopback and private addresses (RFC 1918, CGNAT, ULA, 0.0.0.0/8, ...): on by default for the local runtime ' +
      "(the machine is the user's own), off on AWS. Link-local and cloud metadata addresses are refused whatever this says.",
  }),
  egressAllowHosts: setting({
    env: 'FANOUT_EGRESS_ALLOW_HOSTS',
    schema: optionalString
      .transform((v) =>
        (v ?? '')
          .split(',')
          .map((e) => e.trim())
          .filter((e) => e !== ''),
      )
      .pipe(z.array(z.string().refine(isValidAllowEntry, 'each entry must be a host name, an IP address or a CIDR range'))),
    description: 'Comma-separated host names, IP addresses or CIDR ranges destinations may reach even when private (never link-local or metadata).',
  }),
  eventBus: setting({ env: 'FANOUT_EVENT_BUS', schema: z.string().min(1).default('fanout-local'), description: 'EventBridge bus name.' }),
  tableDestinations: setting({ env: 'FANOUT_TABLE_DESTINATIONS', schema: z.string().min(1).default('fanout-local-destinations'), description: 'DynamoDB table: destinations.' }),
  tablePresets: setting({ env: 'FANOUT_TABLE_PRESETS', schema: z.string().min(1).default('fanout-local-presets'), description: 'DynamoDB table: presets.' }),
  tablePlatforms: setting({ env: 'FANOUT_TABLE_PLATFORMS', schema: z.string().min(1).default('fanout-local-platforms'), description: 'DynamoDB table: platforms.' }),
  tableTokens: setting({ env: 'FANOUT_TABLE_TOKENS', schema: z.string().min(1).default('fanout-local-tokens'), description: 'DynamoDB table: API tokens (hashed).' }),
  tableSystem: setting({ env: 'FANOUT_TABLE_SYSTEM', schema: z.string().min(1).default('fanout-local-system'), description: 'DynamoDB table: projections and API idempotency keys.' }),
  tableIdempotency: setting({ env: 'FANOUT_TABLE_IDEMPOTENCY', schema: z.string().min(1).default('fanout-local-idempotency'), description: 'DynamoDB table: consumer idempotency records (Powertools).' }),
  tableFlowOutputs: setting({ env: 'FANOUT_TABLE_FLOW_OUTPUTS', schema: z.string().min(1).default('fanout-local-flow-outputs'), description: 'DynamoDB table: flow outputs (flow-output).' }),
  tableChannels: setting({ env: 'FANOUT_TABLE_CHANNELS', schema: z.string().min(1).default('fanout-local-channels'), description: 'DynamoDB table: channels (channel-provisioner).' }),
  tableCosts: setting({ env: 'FANOUT_TABLE_COSTS', schema: z.string().min(1).default('fanout-local-costs'), description: 'DynamoDB table: usage sessions, tracker state, budget and rate overrides (cost-tracker).' }),
  tableNotifier: setting({ env: 'FANOUT_TABLE_NOTIFIER', schema: z.string().min(1).default('fanout-local-notifier'), description: 'DynamoDB table: notification channels, alerting state, delivery queues and records (notifier).' }),
  notifyTopicArn: setting({
    env: 'FANOUT_NOTIFY_TOPIC_ARN',
    schema: optionalString,
    description: "SNS topic the notifier's `sns` channels publish to (aws runtime; serverless.yml sets it to NotificationsTopic). Unset: no SNS channel can be used.",
  }),
  notifyWakeQueueUrl: setting({
    env: 'FANOUT_NOTIFY_WAKE_QUEUE_URL',
    schema: optionalString,
    description:
      "SQS queue the notifier schedules its own wake-ups on with DelaySeconds (aws runtime; serverless.yml sets it to NotifierWakeQueue), so group waits, repeats and retries go out on time. Unset: the minute tick (and, locally, the runtime's timer) does it.",
  }),
  stage: setting({ env: 'FANOUT_STAGE', schema: z.string().min(1).max(64).default('local'), description: 'Deployment stage named in notifications (SNS attribute `stage`, message footers).' }),
  notifyGroupWaitSeconds: setting({
    env: 'FANOUT_NOTIFY_GROUP_WAIT_SECONDS',
    schema: z.coerce.number().min(0).max(3600).default(30),
    description: "Alertmanager's group_wait: how long a new alert group waits before its first message, so what starts together arrives together.",
  }),
  notifyGroupIntervalSeconds: setting({
    env: 'FANOUT_NOTIFY_GROUP_INTERVAL_SECONDS',
    schema: z.coerce.number().min(0).max(86_400).default(300),
    description: "Alertmanager's group_interval: how long changes to a group (new alerts, resolutions) wait after its last message.",
  }),
  notifyRepeatIntervalSeconds: setting({
    env: 'FANOUT_NOTIFY_REPEAT_INTERVAL_SECONDS',
    schema: z.coerce
      .number()
      .min(1)
      .max(7 * 86_400)
      .default(14_400),
    description: "Alertmanager's repeat_interval: how often what stays broken is sent again.",
  }),
  notifyDestinationGraceSeconds: setting({
    env: 'FANOUT_NOTIFY_DESTINATION_GRACE_SECONDS',
    schema: z.coerce.number().min(0).max(3600).default(60),
    description: 'How long a destination (or the primary output) stays in error before it is an alert (a rejected stream key is one at once).',
  }),
  notifyInputGraceSeconds: setting({
    env: 'FANOUT_NOTIFY_INPUT_GRACE_SECONDS',
    schema: z.coerce.number().min(0).max(3600).default(10),
    description: 'How long the contribution feed may be gone before it is an alert (encoders reconnect).',
  }),
  notifyRetryInitialSeconds: setting({
    env: 'FANOUT_NOTIFY_RETRY_INITIAL_SECONDS',
    schema: z.coerce.number().min(0.01).max(60).default(1),
    description: 'First retry interval of a failed delivery (doubling, at most 100 s, 8 attempts).',
  }),
  primaryHls: setting({
    env: 'FANOUT_PRIMARY_HLS',
    schema: z
      .enum(['on', 'off'])
      .default('on')
      .transform((v) => v === 'on'),
    description: 'The always-on primary HLS output (on/off). On keeps the contribution flow active whenever Fanout runs.',
  }),
  idleChannelReclaimMinutes: setting({
    env: 'FANOUT_IDLE_CHANNEL_RECLAIM_MINUTES',
    // Fractions are allowed (tests use seconds); at most a week.
    schema: z.coerce.number().min(0).max(10_080).default(60),
    description: "Minutes a stopped destination's channel may stay idle before the scheduled reconcile deletes it and its input/output " + '(re-created at the next start, which then takes a few seconds longer). 0 = never. ADR 0008.',
  }),
  costTimeZone: setting({
    env: 'FANOUT_COST_TIME_ZONE',
    schema: z
      .string()
      .min(1)
      .default('UTC')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'must be an IANA time zone such as UTC or Europe/Paris'),
    description: "The time zone of the cost report's days and months (cost-tracker; docs/cost.md).",
  }),
  costSettleSeconds: setting({
    env: 'FANOUT_COST_SETTLE_SECONDS',
    // Fractions are allowed (tests settle in seconds); at most a day.
    schema: z.coerce.number().min(0).max(86_400).default(900),
    description: 'How long cost observations may arrive out of order before a usage session is settled and published (ADR 0013; default 15 minutes).',
  }),
  costLocalMachineHourUsd: setting({
    env: 'FANOUT_COST_LOCAL_MACHINE_HOUR_USD',
    schema: z.coerce.number().min(0).max(1000).default(0.1),
    description: 'Local engine: what this machine costs per hour (USD), split between destinations by the CPU time their processes used (docs/cost.md).',
  }),
  costLocalCores: setting({
    env: 'FANOUT_COST_LOCAL_CORES',
    schema: z.coerce.number().int().min(0).max(1024).default(0),
    description: "Local engine: the machine's cores the machine-hour is split into (0 = as many as Node reports).",
  }),
  kmsKeyId: setting({ env: 'FANOUT_KMS_KEY_ID', schema: optionalString, description: 'KMS key for stream keys (aws runtime).' }),
  // The AWS media engine (aws runtime; serverless.yml sets them from the stack). Optional here so the
  // local runtime never needs them; the aws runtime refuses to start without them
  // (shared/runtimes/aws/base.ts requireSettings, per entry), and the engine checks their shape (region, ARN kinds).
  deployment: setting({
    env: 'FANOUT_DEPLOYMENT',
    schema: optionalString.pipe(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1-32 lowercase letters, digits or dashes (it is part of AWS names and tags)')
        .optional(),
    ),
    description: 'Deployment name (aws runtime: <service>-<stage>): scopes the names, tags and request ids of every AWS media resource.',
  }),
  mediaConnectFlowArn: setting({
    env: 'FANOUT_MEDIACONNECT_FLOW_ARN',
    schema: optionalString,
    description: 'The contribution MediaConnect flow (aws runtime): arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>.',
  }),
  mediaLiveRoleArn: setting({
    env: 'FANOUT_MEDIALIVE_ROLE_ARN',
    schema: optionalString,
    description: 'IAM role MediaLive assumes for Fanout inputs and channels (aws runtime).',
  }),
  primaryChannelId: setting({
    env: 'FANOUT_PRIMARY_CHANNEL_ID',
    schema: optionalString,
    description: 'MediaLive channel id of the always-on primary output (aws runtime; created by the stack).',
  }),
  dynamoEndpoint: setting({ env: 'FANOUT_DYNAMODB_ENDPOINT', schema: optionalString.pipe(z.url().optional()), description: 'DynamoDB endpoint override (local runtime: set to the embedded dynalite).' }),
  awsRegion: setting({ env: 'AWS_REGION', schema: z.string().min(1).default('eu-west-1'), description: 'AWS region.' }),
} as const;

type Settings = typeof settings;
export type Config = {
  readonly [K in keyof Settings]: Settings[K] extends { derive: (cfg: Record<string, unknown>) => infer D } ? Exclude<z.output<Settings[K]['schema']>, undefined> | D : z.output<Settings[K]['schema']>;
};

export type ConfigKey = keyof Settings;
