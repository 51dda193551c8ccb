/**
 * The API's resources as the CLI reads them: the parts it shows of the schemas in
 * contracts/openapi.json (components Destination, DestinationMetrics, Preset, Platform, Token,
 * FlowStatus, InputHealth, Health). The CLI prints `--json` output as the API sent it, so a field
 * missing here is still passed through.
 */
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
  status: 'idle' | 'creating' | 'starting' | 'running' | 'stopping' | 'deleting' | 'error';
  desired: 'running' | 'stopped';
  channelReclaimed?: boolean;
  lastError: LastError | null;
  version: number;
  createdAt: string;
  lastModified: string;
}

export interface DestinationPage {
  destinations: Destination[];
  nextCursor?: string | null;
}

export interface Metrics {
  bitrateKbps: number | null;
  fps: number | null;
  frames: number | null;
  droppedFrames: number | null;
  uptimeSeconds: number | null;
  restarts: number | null;
  bytesSent: number | null;
  attempt: number | null;
  nextRetryAt: string | null;
  updatedAt: string;
}

export interface Preset {
  presetId: string;
  name: string;
  platform: string;
  type: string;
  description: string;
  isDefault: boolean;
  video: { resolution: string; frameRate: number; bitrate: number; keyframeInterval?: number; profile?: string } | null;
  audio: { bitrate: number; sampleRate?: number; channels?: number } | null;
  builtIn: boolean;
}

export interface Platform {
  platformId: string;
  name: string;
  rtmpUrl: string | null;
  rtmpsUrl: string | null;
  limits: { maxVideoBitrate: number; maxFrameRate: number; maxWidth: number; maxHeight: number; maxKeyframeInterval: number };
  builtIn: boolean;
}

export interface Token {
  tokenId: string;
  name: string;
  role: 'admin' | 'operator' | 'metrics';
  createdAt: string;
}

export interface FlowStatus {
  state: string;
  sourceConnected: boolean | null;
  sourceAddress: string | null;
  connectedSince: string | null;
  outputs: number | null;
  primary: { channelId: string | null; state: string | null; error: LastError | null } | null;
}

export interface InputHealth {
  connected: boolean;
  sourceAddress: string | null;
  connectedSince: string | null;
  bitrateInKbps: number | null;
  packetLossPercent: number | null;
  retransmits: number | null;
  rttMs: number | null;
  lastError: LastError | null;
  /** Present where the engine has a backup input (issue 15). */
  active?: 'main' | 'backup' | 'slate' | null;
  mode?: 'automatic' | 'manual';
  settings?: FailoverSettings;
  lastSwitch?: InputSwitch | null;
  inputs?: { main: InputHealth & { configured: true }; backup: InputHealth & { configured: boolean } };
  slate?: { since: string; stopsAt: string } | null;
}

/** contracts/openapi.json FailoverSettings. */
export interface FailoverSettings {
  mode: 'automatic' | 'manual';
  inputLossThresholdMs: number;
  errorClearTimeMs: number | null;
  slateTimeoutMs: number;
}

/** contracts/openapi.json InputSwitch. */
export interface InputSwitch {
  from: 'main' | 'backup' | 'slate' | null;
  to: 'main' | 'backup' | 'slate';
  at: string;
  reason: 'input-loss' | 'recovered' | 'manual' | 'slate-timeout';
}

/** contracts/openapi.json BackupTestResult. */
export interface BackupTestResult {
  connected: boolean;
  decodable: boolean;
  video: { codec: string; width: number; height: number; frameRate: number | null } | null;
  audio: { codec: string; sampleRate: number | null; channels: number | null } | null;
  problems: string[];
}

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  runtime: string;
  checks: Record<string, string>;
}

/** contracts/openapi.json NotificationChannel (the target is masked: never a webhook URL). */
export interface NotificationChannel {
  channelId: string;
  name: string;
  kind: 'slack' | 'sns' | 'webhook' | 'log';
  enabled: boolean;
  alertNames: string[] | 'all';
  minSeverity: 'critical' | 'warning' | 'info';
  target: string;
  version: number;
}

/** contracts/openapi.json NotificationDelivery. */
export interface NotificationDelivery {
  deliveryId: string;
  channelId: string;
  channelName: string;
  channel: string;
  outcome: 'sent' | 'failed';
  reason: string | null;
  status: 'firing' | 'resolved';
  severity: string;
  alertNames: string[];
  attempts: number;
  httpStatus: number | null;
  error: LastError | null;
  test: boolean;
  at: string;
}
