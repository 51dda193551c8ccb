/**
 * Test fixtures for the cost-tracker domain: sessions built by hand (so a pricing test states its
 * own duration and attributes) and the encodes of the built-in presets.
 */
import type { EncodeProfile } from '../bands.ts';
import type { EstimateRequest } from '../estimator.ts';
import { DEFAULT_ATTRIBUTES, type ResourceKind, type SessionAttributes, type SessionKind, type UsageSession } from '../sessions.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;

export const enc = (width: number, height: number, frameRate: number, videoBitrate: number, audioBitrate = 128_000): EncodeProfile => ({
  codec: 'AVC',
  width,
  height,
  frameRate,
  videoBitrate,
  audioBitrate,
});

/** youtube-1080p30 / generic-1080p30. */
export const HD1080P30 = enc(1920, 1080, 30, 6_000_000);
/** twitch-1080p60. */
export const HD1080P60 = enc(1920, 1080, 60, 6_000_000, 160_000);
/** linkedin-720p30. */
export const HD720P30 = enc(1280, 720, 30, 2_000_000);

export function session(p: {
  kind?: ResourceKind;
  id?: string;
  sessionKind?: SessionKind;
  start: string;
  durationMs: number;
  open?: boolean;
  attributes?: Partial<SessionAttributes>;
  bytesOut?: number | null;
  cpuSeconds?: number | null;
  flowOutputHours?: number | null;
}): UsageSession {
  const kind = p.kind ?? 'destination-channel';
  const id = p.id ?? '11111111-1111-4111-8111-111111111111';
  const startMs = Date.parse(p.start);
  return {
    sessionId: `${kind}:${id}@${new Date(startMs).toISOString()}`,
    resource: { kind, id, destinationId: kind === 'destination-channel' ? id : null },
    kind: p.sessionKind ?? 'running',
    startedAt: new Date(startMs).toISOString(),
    endedAt: p.open ? null : new Date(startMs + p.durationMs).toISOString(),
    durationMs: p.durationMs,
    attributes: {
      ...DEFAULT_ATTRIBUTES,
      pushInputs: kind === 'flow' ? 0 : 1,
      ...(kind === 'destination-channel' ? { destinationName: 'YouTube main', platform: 'youtube', presetId: 'youtube-1080p30', encodes: [HD1080P30] } : {}),
      ...p.attributes,
    },
    restarts: 0,
    bytesOut: p.bytesOut ?? null,
    cpuSeconds: p.cpuSeconds ?? null,
    flowOutputHours: p.flowOutputHours ?? (kind === 'flow' ? 0 : null),
    endReason: p.open ? null : 'stopped',
    endEstimated: false,
    startEventId: 'e-start',
    endEventId: p.open ? null : 'e-end',
    provisional: !!p.open,
  };
}

/** The original plan's scenario: 100 h/month, the primary and four platform channels, a 720 h month. */
export const PLAN_SCENARIO: EstimateRequest = {
  hoursPerMonth: 100,
  monthHours: 720,
  destinations: [
    { label: 'YouTube', platform: 'youtube', encode: HD1080P30 },
    { label: 'Twitch', platform: 'twitch', encode: HD1080P60 },
    { label: 'LinkedIn', platform: 'linkedin', encode: HD720P30 },
    { label: 'Custom', platform: 'custom', encode: enc(1280, 720, 30, 3_000_000) },
  ],
  primary: true,
  contributionBitrate: 8_000_000,
};
