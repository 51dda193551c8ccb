/**
 * What people must hear about, as Alertmanager-style alerts: a set of labels that identifies the
 * alert (its fingerprint), annotations that explain it (what happened, what to do), a status
 * (firing / resolved) and, for conditions that may clear on their own, a grace period (`forMs`,
 * Prometheus' `for:`) before it fires. Alerts come from Fanout's events (`alertsFromEvent`) and
 * from the few conditions that are not events (`deadLetterAlert`, `inputSwitchedAlert`).
 *
 * Labels carry ids, never secrets: no stream key, no URL with a key, no webhook URL.
 *
 *   alert                    source                                           severity   grace
 *   DestinationFailing       DestinationStatusChanged → error (not a key)     critical   graceMs
 *   StreamKeyRejected        → error with RTMP_STREAM_KEY_REJECTED            critical   none
 *   ContributionInputLost    FlowStateChanged ACTIVE, source not connected    critical   inputGraceMs
 *   PrimaryOutputDown        FlowStateChanged ACTIVE, primary not RUNNING      critical   graceMs
 *   MediaLiveChannelAlert    native "MediaLive Channel Alert" SET/CLEARED     warning    none
 *   BudgetThresholdCrossed   BudgetThresholdCrossed (one message, no resolve)  warning/critical
 *   DeadLetterQueueMessage   a DLQ's depth > 0                                 warning    none
 *   InputSwitchedToBackup    the input switched to its backup (future)         warning    none
 */
import { createHash } from 'node:crypto';
import { findEvent } from '../../../../events/catalogue.ts';
import { MediaLiveChannelAlert } from '../../../../events/native/schemas.ts';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_NAMES = [
  'DestinationFailing',
  'StreamKeyRejected',
  'ContributionInputLost',
  'PrimaryOutputDown',
  'MediaLiveChannelAlert',
  'BudgetThresholdCrossed',
  'DeadLetterQueueMessage',
  'InputSwitchedToBackup',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export type Labels = Readonly<Record<string, string>>;

export interface Annotations {
  /** One line: what happened. */
  summary: string;
  /** More detail (the typed error's message, the queue, the figures). */
  description: string;
  /** What to do about it. */
  hint: string;
  destinationName?: string;
  errorCode?: string;
}

export interface AlertUpdate {
  status: 'firing' | 'resolved';
  /** Identity: `alertname`, `severity`, `scope` (the group), `category`, and ids. */
  labels: Labels;
  annotations: Annotations;
  /** When the condition was observed (ISO 8601). */
  at: string;
  /** How long the condition must hold before the alert fires (0: at once). */
  forMs: number;
  /** An event, not a condition: notified once, never repeated, no "resolved". */
  oneShot: boolean;
}

/** Alertmanager-style fingerprint: a hash of the sorted label set. */
export function fingerprint(labels: Labels): string {
  const canonical = JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** The identity labels an alert's fingerprint is computed from (`severity` is an attribute, not identity). */
export function identity(labels: Labels): Labels {
  const { severity: _severity, ...rest } = labels;
  return rest;
}

export interface AlertContext {
  /** The deployment stage (`dev`, `prod`). */
  stage: string;
  /** What the notifier knows of a destination (its name and platform), from the destination store. */
  destination: (destinationId: string) => { name: string; platform: string } | undefined;
  /** The destination (or `primary`) a MediaLive channel ARN belongs to, when known. */
  channelOwner: (channelArn: string) => string | undefined;
  /** How long a destination stays in error before it is an alert (default 60 s). */
  graceMs: number;
  /** How long the contribution may be gone before it is an alert (default 10 s: encoders reconnect). */
  inputGraceMs: number;
}

/** The one contribution input today; labels carry it so inhibition can match by `input`. */
export const CONTRIBUTION_INPUT = 'contribution';

export const KEY_REJECTED_CODES: ReadonlySet<string> = new Set(['RTMP_STREAM_KEY_REJECTED']);

function destinationLabels(ctx: AlertContext, destinationId: string, alertname: AlertName, severity: Severity): { labels: Record<string, string>; name: string | undefined } {
  const d = ctx.destination(destinationId);
  const labels: Record<string, string> = {
    alertname,
    severity,
    category: 'destination',
    scope: `destination:${destinationId}`,
    destinationId,
    input: CONTRIBUTION_INPUT,
    stage: ctx.stage,
  };
  if (d) labels.platform = d.platform;
  return { labels, name: d?.name };
}

interface Detail {
  id: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

type LastError = { code: string; message: string; hint: string } | null;

/**
 * An event as the consumer receives it: EventBridge's `source`, `detail-type`, `detail` and, for
 * native AWS events (whose detail has no timestamp of its own), the event's `time`.
 */
export interface ReceivedEvent {
  source: string;
  detailType: string;
  detail: unknown;
  time?: string;
}

/** Alert updates one event gives (none for events nobody must hear about). */
export function alertsFromEvent(e: ReceivedEvent, ctx: AlertContext): AlertUpdate[] {
  if (e.source === 'aws.medialive' && e.detailType === 'MediaLive Channel Alert') return channelAlert(e, ctx);
  const version = (e.detail as { version?: unknown } | null)?.version;
  const def = typeof version === 'number' ? findEvent(e.source, e.detailType, version) : undefined;
  const parsed = def?.detail.safeParse(e.detail);
  if (!parsed?.success) return [];
  const d = parsed.data as Detail;
  const data = d.data;
  switch (`${e.source} ${e.detailType}`) {
    case 'fanout.destination DestinationStatusChanged': {
      const id = data.destinationId as string;
      const err = data.lastError as LastError;
      const failing = destinationLabels(ctx, id, 'DestinationFailing', 'critical');
      const key = destinationLabels(ctx, id, 'StreamKeyRejected', 'critical');
      const named = failing.name ?? id;
      if (data.to !== 'error' || !err) {
        return [failing, key].map((x) => ({ status: 'resolved', labels: x.labels, annotations: { summary: `${named} recovered`, description: `status ${String(data.to)}`, hint: 'Nothing to do.' }, at: d.occurredAt, forMs: 0, oneShot: false }));
      }
      const isKey = KEY_REJECTED_CODES.has(err.code);
      const which = isKey ? key : failing;
      const other = isKey ? failing : key;
      return [
        {
          status: 'firing',
          labels: which.labels,
          annotations: {
            summary: isKey ? `${named}: the platform rejected the stream key` : `${named} is failing`,
            description: err.message,
            hint: err.hint,
            errorCode: err.code,
            ...(which.name ? { destinationName: which.name } : {}),
          },
          at: d.occurredAt,
          forMs: isKey ? 0 : ctx.graceMs,
          oneShot: false,
        },
        { status: 'resolved', labels: other.labels, annotations: { summary: '', description: '', hint: '' }, at: d.occurredAt, forMs: 0, oneShot: false },
      ];
    }
    case 'fanout.destination DestinationDeleted': {
      const id = data.destinationId as string;
      return (['DestinationFailing', 'StreamKeyRejected'] as const).map((n) => ({
        status: 'resolved' as const,
        labels: destinationLabels(ctx, id, n, 'critical').labels,
        annotations: { summary: 'destination removed', description: '', hint: 'Nothing to do.' },
        at: d.occurredAt,
        forMs: 0,
        oneShot: false,
      }));
    }
    case 'fanout.flow-output FlowStateChanged': {
      const active = data.state === 'ACTIVE';
      const inputLabels = { alertname: 'ContributionInputLost', severity: 'critical', category: 'input', scope: `input:${CONTRIBUTION_INPUT}`, input: CONTRIBUTION_INPUT, stage: ctx.stage };
      const out: AlertUpdate[] = [
        active && data.sourceConnected === false
          ? {
              status: 'firing',
              labels: inputLabels,
              annotations: {
                summary: 'The contribution feed is lost',
                description: 'The flow is active but no SRT caller is connected: every destination is without media.',
                hint: 'Check the encoder (is it streaming, to the right address and port, with the right passphrase?) and its network.',
              },
              at: d.occurredAt,
              forMs: ctx.inputGraceMs,
              oneShot: false,
            }
          : { status: 'resolved', labels: inputLabels, annotations: { summary: 'The contribution feed is back', description: '', hint: 'Nothing to do.' }, at: d.occurredAt, forMs: 0, oneShot: false },
      ];
      const primary = data.primary as { channelId: string | null; state: string | null; error: LastError } | null | undefined;
      if (primary?.channelId) {
        const labels = { alertname: 'PrimaryOutputDown', severity: 'critical', category: 'primary', scope: 'primary', input: CONTRIBUTION_INPUT, stage: ctx.stage };
        const down = active && (primary.state !== 'RUNNING' || primary.error !== null) && primary.state !== 'STARTING';
        out.push(
          down
            ? {
                status: 'firing',
                labels,
                annotations: {
                  summary: 'The primary HLS output is down',
                  description: primary.error?.message ?? `the primary channel is ${primary.state ?? 'unknown'}`,
                  hint: primary.error?.hint ?? 'Fanout starts it again while the flow is active; if it stays down, check the channel in the MediaLive console.',
                  ...(primary.error ? { errorCode: primary.error.code } : {}),
                },
                at: d.occurredAt,
                forMs: ctx.graceMs,
                oneShot: false,
              }
            : { status: 'resolved', labels, annotations: { summary: 'The primary HLS output is back', description: '', hint: 'Nothing to do.' }, at: d.occurredAt, forMs: 0, oneShot: false },
        );
      }
      return out;
    }
    case 'fanout.cost-tracker BudgetThresholdCrossed': {
      const pct = data.thresholdPercent as number;
      return [
        {
          status: 'firing',
          labels: { alertname: 'BudgetThresholdCrossed', severity: pct >= 100 ? 'critical' : 'warning', category: 'budget', scope: 'budget', month: data.month as string, threshold: String(pct), stage: ctx.stage },
          annotations: {
            summary: `Cost reached ${pct} % of the monthly budget (${data.basis as string})`,
            description: `${data.computation as string}. Month to date $${data.monthToDate as string}, projection $${data.projection as string}, budget $${data.budget as string}.`,
            hint: 'See GET /api/cost for what costs what; stop destinations that need not run, or raise the budget.',
          },
          at: d.occurredAt,
          forMs: 0,
          oneShot: true,
        },
      ];
    }
    default:
      return [];
  }
}

function channelAlert(e: ReceivedEvent, ctx: AlertContext): AlertUpdate[] {
  const parsed = MediaLiveChannelAlert.shape.detail.safeParse(e.detail);
  if (!parsed.success || !e.time || !Number.isFinite(Date.parse(e.time))) return [];
  const a = parsed.data;
  const owner = ctx.channelOwner(a.channel_arn);
  const base: Record<string, string> =
    owner && owner !== 'primary'
      ? destinationLabels(ctx, owner, 'MediaLiveChannelAlert', 'warning').labels
      : { alertname: 'MediaLiveChannelAlert', severity: 'warning', category: owner === 'primary' ? 'primary' : 'channel', scope: owner === 'primary' ? 'primary' : `channel:${a.channel_arn}`, input: CONTRIBUTION_INPUT, stage: ctx.stage };
  const labels = { ...base, alarmId: a.alarm_id, alertType: a.alert_type, channelArn: a.channel_arn, ...(a.pipeline !== undefined ? { pipeline: a.pipeline } : {}) };
  const name = owner && owner !== 'primary' ? ctx.destination(owner)?.name : undefined;
  return [
    {
      status: a.alarm_state === 'SET' ? 'firing' : 'resolved',
      labels,
      annotations: {
        summary: `MediaLive: ${a.alert_type}${name ? ` (${name})` : ''}`,
        description: a.message,
        hint: 'MediaLive raised this on the channel; it clears itself when the condition ends. See the channel\'s alerts in the MediaLive console.',
        ...(name ? { destinationName: name } : {}),
      },
      at: e.time,
      forMs: 0,
      oneShot: false,
    },
  ];
}

/** A dead-letter queue's depth as an alert (fires while messages wait there). */
export function deadLetterAlert(p: { queue: string; depth: number; at: string; stage: string }): AlertUpdate {
  return {
    status: p.depth > 0 ? 'firing' : 'resolved',
    labels: { alertname: 'DeadLetterQueueMessage', severity: 'warning', category: 'queue', scope: `queue:${p.queue}`, queue: p.queue, stage: p.stage },
    annotations: {
      summary: p.depth > 0 ? `${p.depth} message(s) in the dead-letter queue ${p.queue}` : `The dead-letter queue ${p.queue} is empty`,
      description: 'An event failed processing every time it was delivered and was set aside.',
      hint: 'Read the message, fix the cause, then redrive it (docs/ARCHITECTURE.md, "No event lost").',
    },
    at: p.at,
    forMs: 0,
    oneShot: false,
  };
}

/** The contribution switched to its backup input (fires while on the backup). */
export function inputSwitchedAlert(p: { input: string; active: 'primary' | 'backup'; at: string; stage: string }): AlertUpdate {
  return {
    status: p.active === 'backup' ? 'firing' : 'resolved',
    labels: { alertname: 'InputSwitchedToBackup', severity: 'warning', category: 'input', scope: `input:${p.input}`, input: p.input, stage: p.stage },
    annotations: {
      summary: p.active === 'backup' ? 'Switched to the backup input' : 'Back on the primary input',
      description: 'The primary contribution stopped delivering; the backup feeds every output.',
      hint: 'Check the primary encoder; Fanout switches back once it is healthy.',
    },
    at: p.at,
    forMs: 0,
    oneShot: false,
  };
}
