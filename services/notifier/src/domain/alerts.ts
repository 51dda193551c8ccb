/**
 * What people must hear about, as Alertmanager-style alerts: a set of labels that identifies the
 * alert (its fingerprint), annotations that explain it (what happened, what to do), a status
 * (firing / resolved) and, for conditions that may clear on their own, a grace period (`forMs`,
 * Prometheus' `for:`) before it fires. Alerts come from Fanout's events (`alertsFromEvent`) and
 * from the few conditions that are not events (`deadLetterAlert`).
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
 *   InputSwitchedToBackup    InputSwitched to backup; resolved: to main        warning    none
 *   SlateOnAir               InputSwitched to slate; resolved: an input back  critical   none
 *   SlateTimedOut            InputSwitched slate-timeout: the outputs stop     critical   one message, no resolve
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
  'SlateOnAir',
  'SlateTimedOut',
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
  const canonical = JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
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
        return [failing, key].map((x) => ({
          status: 'resolved',
          labels: x.labels,
          annotations: { summary: `${named} recovered`, description: `status ${String(data.to)}`, hint: 'Nothing to do.' },
          at: d.occurredAt,
          forMs: 0,
          oneShot: false,
        }));
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
    case 'fanout.flow-output InputSwitched':
      return inputSwitched(data, d.occurredAt, ctx);
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
        hint: "MediaLive raised this on the channel; it clears itself when the condition ends. See the channel's alerts in the MediaLive console.",
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

const REASONS: Record<string, string> = {
  'input-loss': 'the active input stopped delivering media',
  recovered: 'an input delivers again',
  manual: 'an operator switched',
  'slate-timeout': "no input returned within the slate's time",
};

/**
 * InputSwitched as alerts (issue 15): every switch is a message. On the backup: InputSwitchedToBackup
 * fires (resolved on the main again); the slate on air: SlateOnAir fires (resolved when an input
 * returns); the slate's time out: SlateTimedOut, once (the outputs stop).
 */
function inputSwitched(data: Record<string, unknown>, at: string, ctx: AlertContext): AlertUpdate[] {
  const base = { category: 'input', scope: `input:${CONTRIBUTION_INPUT}`, input: CONTRIBUTION_INPUT, stage: ctx.stage };
  const backup = { alertname: 'InputSwitchedToBackup', severity: 'warning', ...base };
  const slate = { alertname: 'SlateOnAir', severity: 'critical', ...base };
  const from = String(data.from ?? 'nothing');
  const to = String(data.to);
  const why = REASONS[String(data.reason)] ?? String(data.reason);
  const resolved = (labels: Record<string, string>, summary: string): AlertUpdate => ({ status: 'resolved', labels, annotations: { summary, description: `${from} → ${to}: ${why}.`, hint: 'Nothing to do.' }, at, forMs: 0, oneShot: false });
  if (data.reason === 'slate-timeout') {
    return [
      {
        status: 'firing',
        labels: { alertname: 'SlateTimedOut', severity: 'critical', ...base },
        annotations: {
          summary: 'No input came back: the destinations stop',
          description: 'The slate was on air for the whole slate timeout; every destination stops sending now.',
          hint: 'Bring an encoder back on the main or the backup input, then start the destinations again.',
        },
        at,
        forMs: 0,
        oneShot: true,
      },
    ];
  }
  if (to === 'slate') {
    return [
      {
        status: 'firing',
        labels: slate,
        annotations: {
          summary: 'No input delivers: the slate is on air',
          description: `${from} → slate: ${why}. The destinations stay connected with the slate${typeof data.slateStopsAt === 'string' ? ` until ${data.slateStopsAt}` : ''}, then stop.`,
          hint: 'Check the encoders on the main and backup inputs; the real feed replaces the slate without a reconnect when one returns.',
        },
        at,
        forMs: 0,
        oneShot: false,
      },
    ];
  }
  const out: AlertUpdate[] = [resolved(slate, 'An input is back: the slate is off air')];
  if (to === 'backup') {
    out.push({
      status: 'firing',
      labels: backup,
      annotations: {
        summary: 'Switched to the backup input',
        description: `${from} → backup: ${why}. The backup feeds every output.`,
        hint:
          data.reason === 'manual'
            ? 'Switch back with POST /api/mediaconnect/inputs/switch (or `fanout input switch main`) when the main is ready.'
            : 'Check the main encoder; in automatic revertive mode Fanout switches back once it has been clean for the revert time.',
      },
      at,
      forMs: 0,
      oneShot: false,
    });
  } else {
    out.push(resolved(backup, 'Back on the main input'));
  }
  return out;
}
