/**
 * Notifications rendered for each kind of channel. Every free-text value goes through `scrub`
 * (secrets out, URLs masked) before it is placed; Slack text is also escaped (`&`, `<`, `>` are
 * control characters in Slack's mrkdwn: a destination named `<!channel>` must not page a channel).
 *
 *   Slack     incoming-webhook payload: a fallback `text`, and per alert group a legacy attachment
 *             whose `color` is the severity (the only way to get a colour bar) holding Block Kit
 *             blocks: what happened, which destination and platform, the error, what to do. A
 *             burst merged into one message has one attachment per group.
 *   SNS       Publish input: an ASCII `Subject` (< 100 characters, no line breaks, as SNS requires),
 *             a plain-text `Message`, and `MessageAttributes` subscribers filter on: `severity`,
 *             `eventType` (the alert names), `status`, `stage`, and `destinationId` / `platform`
 *             when the message is about one destination.
 *   webhook   Alertmanager's webhook body (version "4": groupKey, status, groupLabels,
 *             commonLabels, commonAnnotations, alerts[]) so existing receivers understand it, plus
 *             a `fanout` member; it is signed (signature.ts), so the exact bytes are returned.
 *   log       a structured record.
 */
import type { KnownBlock, MessageAttachment } from '@slack/types';
import type { Labels, Severity } from './alerts.ts';
import type { Notification, NotifiedAlert } from './alerting.ts';
import { scrub } from './mask.ts';

export interface RenderContext {
  stage: string;
  /** Every secret value that must not appear (webhook URLs, tokens, stream keys known here). */
  secrets: readonly string[];
  /** The dashboard's address, linked from messages when set. */
  dashboardUrl?: string | null;
}

export const SEVERITY_COLOURS: Record<Severity | 'resolved', string> = {
  critical: '#D0021B',
  warning: '#F2A81D',
  info: '#4A90E2',
  resolved: '#2EB67D',
};

const ICON: Record<Severity | 'resolved', string> = { critical: '🔴', warning: '🟠', info: '🔵', resolved: '✅' };

/** Slack's mrkdwn control characters. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const safe = (ctx: RenderContext, text: string | undefined): string => scrub(text ?? '', ctx.secrets);
const slackText = (ctx: RenderContext, text: string | undefined, max = 2900): string => clip(escapeSlack(safe(ctx, text)), max);

/** The one-line title of a notification: `[FIRING:2] YouTube main is failing`. */
export function title(n: Notification, ctx: RenderContext): string {
  const lead = n.firing[0] ?? n.resolved[0];
  const head = n.firing.length > 0 ? `[FIRING:${n.firing.length}]` : '[RESOLVED]';
  const more = (n.firing.length || n.resolved.length) > 1 ? ` (+${(n.firing.length || n.resolved.length) - 1} more)` : '';
  return `${head} ${safe(ctx, lead?.annotations.summary)}${more}`;
}

const MAX_ALERTS_SHOWN = 5;
const MAX_GROUPS_SHOWN = 10;

function alertBlocks(a: NotifiedAlert, ctx: RenderContext): KnownBlock[] {
  const fields: { type: 'mrkdwn'; text: string }[] = [];
  const field = (name: string, value: string | undefined): void => {
    if (value) fields.push({ type: 'mrkdwn', text: clip(`*${name}*\n${escapeSlack(safe(ctx, value))}`, 2000) });
  };
  field('Destination', a.annotations.destinationName ?? a.labels.destinationId);
  field('Platform', a.labels.platform);
  field('Error', a.annotations.errorCode);
  field('Since', a.startsAt);
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: slackText(ctx, `*${a.annotations.summary}*\n${a.annotations.description}`) } }];
  if (fields.length > 0) (blocks[0] as { fields?: unknown }).fields = fields;
  if (a.annotations.hint) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*What to do:* ${slackText(ctx, a.annotations.hint)}` } });
  return blocks;
}

function groupAttachment(n: Notification, ctx: RenderContext): MessageAttachment {
  const colour = n.firing.length > 0 ? SEVERITY_COLOURS[n.severity] : SEVERITY_COLOURS.resolved;
  const icon = n.firing.length > 0 ? ICON[n.severity] : ICON.resolved;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `${icon} *${slackText(ctx, title(n, ctx), 2000)}*` } }];
  for (const a of n.firing.slice(0, MAX_ALERTS_SHOWN)) blocks.push(...alertBlocks(a, ctx));
  if (n.firing.length > MAX_ALERTS_SHOWN) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${n.firing.length - MAX_ALERTS_SHOWN} more firing` }] });
  if (n.resolved.length > 0) {
    const lines = n.resolved.slice(0, MAX_ALERTS_SHOWN).map((a) => `✅ ${escapeSlack(safe(ctx, a.annotations.summary || a.labels.alertname))} (since ${a.startsAt}, resolved ${a.endsAt ?? '?'})`);
    if (n.resolved.length > MAX_ALERTS_SHOWN) lines.push(`…and ${n.resolved.length - MAX_ALERTS_SHOWN} more resolved`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Resolved*\n${lines.join('\n')}`, 2900) } });
  }
  const where = ctx.dashboardUrl ? ` · <${ctx.dashboardUrl}|dashboard>` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Fanout · stage ${escapeSlack(ctx.stage)} · ${escapeSlack(n.groupLabels.scope ?? n.groupKey)}${where}` }] });
  return { color: colour, fallback: clip(escapeSlack(safe(ctx, title(n, ctx))), 300), blocks };
}

export interface SlackPayload {
  text: string;
  attachments: MessageAttachment[];
}

/** One Slack message for one notification, or for a burst merged into one (one attachment per group). */
export function renderSlack(ns: readonly Notification[], ctx: RenderContext): SlackPayload {
  if (ns.length === 0) throw new Error('nothing to render');
  const shown = ns.slice(0, MAX_GROUPS_SHOWN);
  const attachments = shown.map((n) => groupAttachment(n, ctx));
  if (ns.length > MAX_GROUPS_SHOWN)
    attachments.push({ color: SEVERITY_COLOURS.info, fallback: `${ns.length - MAX_GROUPS_SHOWN} more groups`, blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${ns.length - MAX_GROUPS_SHOWN} more alert groups` }] }] });
  const text = ns.length === 1 ? title(ns[0]!, ctx) : `${ns.length} alert groups: ${ns.map((n) => title(n, ctx)).join('; ')}`;
  return { text: clip(escapeSlack(text), 3000), attachments };
}

// ---- SNS ----------------------------------------------------------------------------------------

export interface SnsMessageAttribute {
  DataType: 'String' | 'String.Array';
  StringValue: string;
}

export interface SnsPublish {
  Subject: string;
  Message: string;
  MessageAttributes: Record<string, SnsMessageAttribute>;
}

/** SNS's Subject rule: ASCII, starting with a letter, number or punctuation, no control characters, under 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7E]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  const s = ascii.length > 0 ? ascii : 'Fanout alert';
  return s.length <= 99 ? s : `${s.slice(0, 96)}...`;
}

/** The value of a label when every alert has it and it is the same. */
function common(ns: readonly Notification[], name: string): string | undefined {
  const values = ns.flatMap((n) => [...n.firing, ...n.resolved]).map((a) => a.labels[name]);
  return values.length > 0 && values.every((v) => v !== undefined && v === values[0]) ? values[0] : undefined;
}

function text(n: Notification, ctx: RenderContext): string {
  const lines = [title(n, ctx), ''];
  for (const a of n.firing) {
    lines.push(`* ${safe(ctx, a.annotations.summary)}`);
    if (a.annotations.description) lines.push(`  ${safe(ctx, a.annotations.description)}`);
    if (a.annotations.destinationName || a.labels.destinationId) lines.push(`  destination: ${safe(ctx, a.annotations.destinationName ?? a.labels.destinationId)}${a.labels.platform ? ` (${a.labels.platform})` : ''}`);
    if (a.annotations.errorCode) lines.push(`  error: ${a.annotations.errorCode}`);
    lines.push(`  since: ${a.startsAt}`);
    if (a.annotations.hint) lines.push(`  what to do: ${safe(ctx, a.annotations.hint)}`);
  }
  for (const a of n.resolved) lines.push(`* resolved: ${safe(ctx, a.annotations.summary || a.labels.alertname)} (${a.startsAt} - ${a.endsAt ?? '?'})`);
  return lines.join('\n');
}

/** The SNS Publish input for one notification or a merged burst. */
export function renderSns(ns: readonly Notification[], ctx: RenderContext): SnsPublish {
  if (ns.length === 0) throw new Error('nothing to render');
  const alerts = ns.flatMap((n) => [...n.firing, ...n.resolved]);
  const names = [...new Set(alerts.map((a) => a.labels.alertname ?? 'unknown'))].sort();
  const severity = ns.some((n) => n.firing.length > 0) ? worst(ns.filter((n) => n.firing.length > 0).map((n) => n.severity)) : 'info';
  const attrs: Record<string, SnsMessageAttribute> = {
    severity: { DataType: 'String', StringValue: severity },
    eventType: names.length === 1 ? { DataType: 'String', StringValue: names[0]! } : { DataType: 'String.Array', StringValue: JSON.stringify(names) },
    status: { DataType: 'String', StringValue: ns.some((n) => n.firing.length > 0) ? 'firing' : 'resolved' },
    stage: { DataType: 'String', StringValue: ctx.stage },
  };
  const destinationId = common(ns, 'destinationId');
  const platform = common(ns, 'platform');
  if (destinationId) attrs.destinationId = { DataType: 'String', StringValue: destinationId };
  if (platform) attrs.platform = { DataType: 'String', StringValue: platform };
  return {
    Subject: snsSubject(ns.length === 1 ? title(ns[0]!, ctx) : `[Fanout] ${ns.length} alert groups`),
    Message: ns.map((n) => text(n, ctx)).join('\n\n'),
    MessageAttributes: attrs,
  };
}

function worst(s: readonly Severity[]): Severity {
  return s.includes('critical') ? 'critical' : s.includes('warning') ? 'warning' : 'info';
}

// ---- generic webhook -----------------------------------------------------------------------------

const AM_ZERO_TIME = '0001-01-01T00:00:00Z';

function commonOf(alerts: readonly NotifiedAlert[], pick: (a: NotifiedAlert) => Record<string, string | undefined>): Record<string, string> {
  if (alerts.length === 0) return {};
  const first = pick(alerts[0]!);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (v !== undefined && alerts.every((a) => pick(a)[k] === v)) out[k] = v;
  return out;
}

function annotations(a: NotifiedAlert, ctx: RenderContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.annotations)) if (typeof v === 'string' && v !== '') out[k] = safe(ctx, v);
  return out;
}

/** The webhook body (exact bytes to sign and send) for one notification. */
export function renderWebhook(n: Notification, ctx: RenderContext & { receiver: string }): { body: string } {
  const alerts = [...n.firing, ...n.resolved];
  const body = {
    version: '4',
    groupKey: n.groupKey,
    truncatedAlerts: 0,
    status: n.status,
    receiver: ctx.receiver,
    groupLabels: n.groupLabels as Labels,
    commonLabels: commonOf(alerts, (a) => a.labels),
    commonAnnotations: commonOf(alerts, (a) => annotations(a, ctx)),
    externalURL: ctx.dashboardUrl ?? '',
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: annotations(a, ctx),
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? AM_ZERO_TIME,
      generatorURL: '',
      fingerprint: a.fingerprint,
    })),
    fanout: { notificationId: n.id, reason: n.reason, severity: n.severity, stage: ctx.stage, at: n.at },
  };
  return { body: JSON.stringify(body) };
}

/** A structured log record of a notification (the `log` channel). */
export function renderLog(n: Notification, ctx: RenderContext): Record<string, unknown> {
  return {
    msg: title(n, ctx),
    notificationId: n.id,
    group: n.groupKey,
    status: n.status,
    reason: n.reason,
    severity: n.severity,
    alerts: [...n.firing, ...n.resolved].map((a) => ({ alertname: a.labels.alertname, status: a.status, destinationId: a.labels.destinationId, summary: safe(ctx, a.annotations.summary), errorCode: a.annotations.errorCode })),
  };
}
