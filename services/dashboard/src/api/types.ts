/**
 * The shapes of the Fanout API the dashboards read (contracts/openapi.json is the source; the
 * dashboard, a service of its own, talks to the others only through that API and never imports
 * their code). services/dashboard/test/contract.test.ts checks these fields against the contract.
 */

export type DestinationStatus = 'creating' | 'idle' | 'starting' | 'running' | 'stopping' | 'deleting' | 'error';

export interface LastError {
  code: string;
  message: string;
  hint: string;
}

export interface Destination {
  destinationId: string;
  name: string;
  platform: string;
  rtmpUrl: string;
  streamKeyLast4: string | null;
  preset: string;
  status: DestinationStatus;
  desired: 'running' | 'stopped';
  mediaLiveChannelId: string | null;
  mediaConnectOutputArn: string | null;
  channelReclaimed: boolean;
  lastError: LastError | null;
  version: number;
  createdAt: string;
  lastModified: string;
}

export interface ChannelMetrics {
  bitrateKbps: number | null;
  fps: number | null;
  frames: number | null;
  droppedFrames: number | null;
  duplicatedFrames: number | null;
  speed: number | null;
  uptimeSeconds: number | null;
  restarts: number | null;
  bytesSent: number | null;
  attempt: number | null;
  nextRetryAt: string | null;
  updatedAt: string;
}

export interface DestinationMetrics {
  destinationId: string;
  status: DestinationStatus;
  metrics: ChannelMetrics | null;
}

export interface PlatformLimits {
  maxVideoBitrate: number;
  maxFrameRate: number;
  maxWidth: number;
  maxHeight: number;
  maxKeyframeInterval: number;
}

export interface Platform {
  platformId: string;
  name: string;
  rtmpUrl: string | null;
  rtmpsUrl: string | null;
  limits: PlatformLimits;
  builtIn: boolean;
  version: number;
  createdAt: string;
  lastModified: string;
}

export interface VideoSettings {
  codec: 'h264';
  resolution: string;
  frameRate: number;
  bitrate: number;
  rateControl?: 'cbr';
  profile?: 'baseline' | 'main' | 'high';
  level?: string;
  keyframeInterval?: number;
}

export interface AudioSettings {
  codec: 'aac';
  bitrate: number;
  sampleRate?: 44100 | 48000;
  channels?: 1 | 2;
}

export interface Preset {
  presetId: string;
  name: string;
  platform: string;
  type: 'generic' | 'platform' | 'passthrough';
  description: string;
  isDefault: boolean;
  video: VideoSettings | null;
  audio: AudioSettings | null;
  builtIn: boolean;
  version: number;
  createdAt: string;
  lastModified: string;
}

export interface FlowStatus {
  state: string;
  flowArn: string | null;
  sourceConnected: boolean | null;
  sourceAddress: string | null;
  connectedSince: string | null;
  outputs: number | null;
  primary: { channelId: string | null; state: string | null; error: LastError | null } | null;
  updatedAt: string | null;
}

export interface InputHealth {
  connected: boolean;
  sourceAddress: string | null;
  connectedSince: string | null;
  bitrateInKbps: number | null;
  packetLossPercent: number | null;
  packetsLost: number | null;
  retransmits: number | null;
  rttMs: number | null;
  lastError: LastError | null;
  updatedAt: string;
  /** Present where the engine has a backup input (issue 15). */
  active?: InputEnd | null;
  mode?: FailoverSettings['mode'];
  settings?: FailoverSettings;
  lastSwitch?: InputSwitch | null;
  inputs?: InputPair;
  slate?: { since: string; stopsAt: string } | null;
}

export type InputEnd = 'main' | 'backup' | 'slate';

/** One input's health in InputHealth.inputs (the top-level fields of InputHealth, and `configured`). */
export type InputOfPair = Omit<InputHealth, 'active' | 'mode' | 'settings' | 'lastSwitch' | 'inputs' | 'slate'> & { configured: boolean };
export interface InputPair {
  main: InputOfPair;
  backup: InputOfPair;
}

export interface FailoverSettings {
  mode: 'automatic' | 'manual';
  inputLossThresholdMs: number;
  errorClearTimeMs: number | null;
  slateTimeoutMs: number;
}

export interface InputSwitch {
  from: InputEnd | null;
  to: InputEnd;
  at: string;
  reason: 'input-loss' | 'recovered' | 'manual' | 'slate-timeout';
}

export interface BackupTestResult {
  connected: boolean;
  decodable: boolean;
  video: { codec: string; width: number; height: number; frameRate: number | null } | null;
  audio: { codec: string; sampleRate: number | null; channels: number | null } | null;
  problems: string[];
}

export type Role = 'admin' | 'operator' | 'metrics';

/** GET /api/session: the calling token. */
export interface Session {
  tokenId: string;
  name: string;
  role: Role;
}

export interface Token {
  tokenId: string;
  name: string;
  role: Role;
  createdAt: string;
}

export interface NewToken extends Token {
  token: string;
}

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  runtime: string;
  checks: Record<string, string>;
}

export interface EngineProcess {
  name: string;
  role: 'ingest' | 'hls' | 'encoder' | 'pusher';
  channelIds: string[];
  pid: number | null;
  state: string;
  restarts: number;
  attempt: number;
  lastError: LastError | null;
  command: string[];
}

export interface Orphan {
  kind: 'channel' | 'output';
  id: string;
  arn?: string;
  destinationId: string | null;
  state: string | null;
  reason: 'DESTINATION_MISSING' | 'NOT_REFERENCED';
}

export interface Mismatch {
  destinationId: string;
  storeStatus: string;
  desired: 'running' | 'stopped';
  channelId: string | null;
  engineState: string | null;
  expectedState: string;
  reason: 'CHANNEL_MISSING' | 'STATE_DIFFERS';
}

export interface ValidationReport {
  checkedAt: string;
  orphans: Orphan[];
  mismatches: Mismatch[];
}

export interface CleanedResource {
  kind: 'channel' | 'output';
  id: string;
  destinationId: string | null;
  reason: string;
  outcome: 'removed' | 'removing' | 'failed';
  error: { code: string; message: string } | null;
}

export interface CleanupResult {
  cleanedAt: string;
  resources: CleanedResource[];
  removed: number;
  removing: number;
  failed: number;
  mismatches: Mismatch[];
}

/** An RFC 9457 problem document as the API sends it (docs/errors.md). */
export interface Problem {
  status: number;
  code: string;
  title?: string;
  detail: string;
  hint: string;
  /** Field-level errors (VALIDATION_FAILED and other 422s): `path` is the field, dotted. */
  errors?: { path: string; message: string }[];
  usedBy?: unknown;
  [k: string]: unknown;
}

/** One row of a cost breakdown (GET /api/cost). */
export interface CostRow {
  key: string;
  label: string;
  cost: string;
  estimated: boolean;
}

/** The budget as the cost report shows it. */
export interface CostReportBudget {
  amount: string;
  thresholdsPercent: number[];
  crossed: number[];
  usedPercent: number;
  projectedPercent: number;
}

/** GET /api/cost: month to date, projection, breakdowns, the fixed design, the budget. */
export interface CostReport {
  month: string;
  timeZone: string;
  asOf: string;
  engine: 'aws' | 'local';
  monthToDate: string;
  estimated: boolean;
  projection: { total: string; computation: string };
  byDestination: CostRow[];
  byPlatform: CostRow[];
  byServiceLine: CostRow[];
  days: { day: string; cost: string }[];
  missingRates: string[];
  openSessions: number;
  fixedDesign: { total: string; actual: string; saving: string; computation: string } | null;
  /** Why fixedDesign is null (the local engine, a month not begun). */
  fixedDesignNotApplicable: { reason: 'local-engine' | 'month-not-started'; detail: string } | null;
  budget: CostReportBudget | null;
  computation: string;
}

/** GET/PUT /api/admin/cost/budget. */
export interface Budget {
  budget: { amount: string; thresholdsPercent: number[]; minElapsedHours: number; timeZone: string } | null;
  crossed: { month: string | null; thresholdsPercent: number[] };
  updatedBy: string | null;
}

export type NotificationKind = 'slack' | 'sns' | 'webhook' | 'log';
export type NotificationSeverity = 'critical' | 'warning' | 'info';

/** A notification channel (its target masked: webhook URLs are secrets). */
export interface NotificationChannel {
  channelId: string;
  name: string;
  kind: NotificationKind;
  enabled: boolean;
  alertNames: string[] | 'all';
  minSeverity: NotificationSeverity;
  target: string;
  version: number;
}

export interface NotificationChannelCreated {
  channel: NotificationChannel;
  signingSecret?: string;
}

export interface NotificationDelivery {
  deliveryId: string;
  channelId: string;
  channelName: string;
  channel: NotificationKind;
  outcome: 'sent' | 'failed';
  reason: string | null;
  status: 'firing' | 'resolved';
  severity: NotificationSeverity;
  alertNames: string[];
  attempts: number;
  httpStatus: number | null;
  error: LastError | null;
  test: boolean;
  at: string;
}

export interface NotificationAlerts {
  alertNames: string[];
  severities: NotificationSeverity[];
  firing: { alertname: string; scope: string; severity: string; since: string; summary: string }[];
}
