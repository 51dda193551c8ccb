/**
 * Alerting as Alertmanager does it, as a pure state machine with an injected clock: `receive`
 * records alert updates, `tick(now)` returns the notifications due, `nextWakeAt` says when to
 * tick again. The state is plain JSON (a store keeps it between invocations).
 *
 * Semantics (prometheus.io Alertmanager configuration: `route`, `inhibit_rules`):
 *
 *   group_by         alerts with equal values of these labels form a group; Fanout groups by
 *                    `scope`: one group per destination, per input, the primary, the budget, a queue
 *   for (grace)      an alert fires only once its condition has held `forMs`; resolved before
 *                    that, nobody hears of it
 *   group_wait       a new group waits this long before its first message, so alerts that start
 *                    together (a destination's error and its channel alert) arrive together
 *   group_interval   after a message, changes to the group (new alerts, resolutions) wait this
 *                    long and go out together
 *   repeat_interval  what stays broken is sent again after this long
 *   send_resolved    an alert that was notified firing gets a "resolved" message when it clears
 *   inhibit_rules    while a source alert fires, target alerts with equal `equal` labels are not
 *                    sent (input lost → the destinations it starves are not paged one by one);
 *                    an alert never inhibits itself. Inhibited alerts resume when the source
 *                    clears, if they still fire
 *
 * One-shot alerts (an event such as a budget crossing) are notified once and dropped.
 */
import { fingerprint, identity, SEVERITIES, type Annotations, type AlertUpdate, type Labels, type Severity } from './alerts.ts';

export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface InhibitRule {
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

export interface RouteConfig {
  groupBy: string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  sendResolved: boolean;
  inhibitRules: InhibitRule[];
}

/** Alertmanager's defaults (30 s, 5 min, 4 h), grouped by scope, with the input-loss inhibition. */
export const DEFAULT_ROUTE: RouteConfig = Object.freeze({
  groupBy: ['scope'],
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3_600_000,
  sendResolved: true,
  inhibitRules: [
    {
      sourceMatchers: [{ name: 'alertname', op: '=', value: 'ContributionInputLost' }],
      // What input loss causes: destinations failing, the primary down, channel alerts. A rejected
      // stream key is not caused by it and is still sent.
      targetMatchers: [
        { name: 'category', op: '=~', value: 'destination|primary' },
        { name: 'alertname', op: '!=', value: 'StreamKeyRejected' },
      ],
      equal: ['input'],
    },
  ],
}) as RouteConfig;

interface AlertRecord {
  fingerprint: string;
  labels: Labels;
  annotations: Annotations;
  /** When the condition started (this occurrence). */
  startsAtMs: number;
  /** When it fires (start + grace). */
  activeAtMs: number;
  resolvedAtMs: number | null;
  lastUpdateMs: number;
  oneShot: boolean;
  notifiedFiring: boolean;
}

interface GroupState {
  key: string;
  labels: Labels;
  alerts: Record<string, AlertRecord>;
  lastFlushMs: number | null;
  /** Fingerprints of the firing alerts in the last message, and when it went. */
  lastNotified: { firing: string[]; atMs: number } | null;
  nextFlushMs: number | null;
}

export interface AlertingState {
  version: 1;
  groups: Record<string, GroupState>;
}

export function emptyAlerting(): AlertingState {
  return { version: 1, groups: {} };
}

/** An alert as a notification carries it. */
export interface NotifiedAlert {
  fingerprint: string;
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Annotations;
  startsAt: string;
  endsAt: string | null;
}

export interface Notification {
  /** Stable per group and instant: the delivery's idempotency key. */
  id: string;
  groupKey: string;
  groupLabels: Labels;
  status: 'firing' | 'resolved';
  /** Why now: the group's first message, a change, a repeat, or all resolved. */
  reason: 'initial' | 'update' | 'repeat' | 'resolved';
  severity: Severity;
  firing: NotifiedAlert[];
  resolved: NotifiedAlert[];
  at: string;
}

export function matches(labels: Labels, m: Matcher): boolean {
  const v = labels[m.name] ?? '';
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(v);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(v);
  }
}

function groupKeyOf(labels: Labels, cfg: RouteConfig): { key: string; labels: Labels } {
  const g: Record<string, string> = {};
  for (const name of cfg.groupBy) g[name] = labels[name] ?? '';
  return { key: JSON.stringify(cfg.groupBy.map((n) => [n, g[n]])), labels: g };
}

const ms = (iso: string): number => {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(iso)}`);
  return t;
};

function schedule(g: GroupState, cfg: RouteConfig, dueMs: number): void {
  const earliest = g.lastFlushMs === null ? dueMs + cfg.groupWaitMs : Math.max(g.lastFlushMs + cfg.groupIntervalMs, dueMs);
  g.nextFlushMs = g.nextFlushMs === null ? earliest : Math.min(g.nextFlushMs, earliest);
}

/** Records one alert update (pure). Updates older than what is known of the alert are ignored. */
export function receive(state: AlertingState, u: AlertUpdate, cfg: RouteConfig = DEFAULT_ROUTE): AlertingState {
  const at = ms(u.at);
  const fp = fingerprint(identity(u.labels));
  const { key, labels } = groupKeyOf(u.labels, cfg);
  const existing = state.groups[key];
  const g: GroupState = existing ? structuredClone(existing) : { key, labels, alerts: {}, lastFlushMs: null, lastNotified: null, nextFlushMs: null };
  const rec = g.alerts[fp];
  if (rec && at < rec.lastUpdateMs) return state; // reordered: a newer update already applied
  if (u.status === 'firing') {
    if (rec && rec.resolvedAtMs === null) {
      rec.annotations = u.annotations;
      rec.labels = u.labels;
      rec.lastUpdateMs = at;
    } else {
      g.alerts[fp] = { fingerprint: fp, labels: u.labels, annotations: u.annotations, startsAtMs: at, activeAtMs: at + u.forMs, resolvedAtMs: null, lastUpdateMs: at, oneShot: u.oneShot, notifiedFiring: false };
      schedule(g, cfg, at + u.forMs);
    }
  } else {
    if (!rec || rec.resolvedAtMs !== null) return state;
    if (!rec.notifiedFiring && rec.activeAtMs > at) {
      delete g.alerts[fp]; // cleared within its grace period: nobody hears of it
    } else {
      rec.resolvedAtMs = at;
      rec.lastUpdateMs = at;
      schedule(g, cfg, at);
    }
  }
  if (Object.keys(g.alerts).length === 0 && g.lastNotified === null) {
    const { [key]: _gone, ...rest } = state.groups;
    return { ...state, groups: rest };
  }
  return { ...state, groups: { ...state.groups, [key]: g } };
}

function isFiring(a: AlertRecord, now: number): boolean {
  return a.resolvedAtMs === null && a.activeAtMs <= now;
}

function inhibited(target: AlertRecord, sources: readonly AlertRecord[], cfg: RouteConfig): boolean {
  return cfg.inhibitRules.some(
    (r) =>
      r.targetMatchers.every((m) => matches(target.labels, m)) &&
      sources.some((s) => s.fingerprint !== target.fingerprint && r.sourceMatchers.every((m) => matches(s.labels, m)) && r.equal.every((n) => (s.labels[n] ?? '') === (target.labels[n] ?? ''))),
  );
}

function notified(a: AlertRecord, status: 'firing' | 'resolved'): NotifiedAlert {
  return { fingerprint: a.fingerprint, status, labels: a.labels, annotations: a.annotations, startsAt: new Date(a.startsAtMs).toISOString(), endsAt: a.resolvedAtMs === null ? null : new Date(a.resolvedAtMs).toISOString() };
}

function severityOf(alerts: readonly NotifiedAlert[]): Severity {
  let best: Severity = 'info';
  for (const a of alerts) {
    const s = a.labels.severity as Severity;
    if (SEVERITIES.includes(s) && SEVERITIES.indexOf(s) < SEVERITIES.indexOf(best)) best = s;
  }
  return best;
}

/** Flushes every group that is due at `now`; returns the notifications to deliver, by group key. */
export function tick(state: AlertingState, now: string, cfg: RouteConfig = DEFAULT_ROUTE): { state: AlertingState; notifications: Notification[] } {
  const nowMs = ms(now);
  const all = Object.values(state.groups).flatMap((g) => Object.values(g.alerts));
  const sources = all.filter((a) => isFiring(a, nowMs));
  const groups: Record<string, GroupState> = {};
  const notifications: Notification[] = [];
  for (const key of Object.keys(state.groups).sort()) {
    const g0 = state.groups[key]!;
    if (g0.nextFlushMs === null || g0.nextFlushMs > nowMs) {
      groups[key] = g0;
      continue;
    }
    const g = structuredClone(g0);
    const records = Object.values(g.alerts);
    const firing = records.filter((a) => isFiring(a, nowMs) && !inhibited(a, sources, cfg) && !(a.oneShot && a.notifiedFiring));
    const resolved = records.filter((a) => a.resolvedAtMs !== null && a.notifiedFiring && !a.oneShot);
    const previous = new Set(g.lastNotified?.firing ?? []);
    const fresh = firing.some((a) => !previous.has(a.fingerprint));
    const repeat = firing.length > 0 && g.lastNotified !== null && nowMs - g.lastNotified.atMs >= cfg.repeatIntervalMs;
    const sendResolved = cfg.sendResolved && resolved.length > 0;
    if (fresh || repeat || sendResolved) {
      const firingOut = firing.map((a) => notified(a, 'firing'));
      const resolvedOut = cfg.sendResolved ? resolved.map((a) => notified(a, 'resolved')) : [];
      notifications.push({
        id: `${key}@${new Date(nowMs).toISOString()}`,
        groupKey: key,
        groupLabels: g.labels,
        status: firingOut.length > 0 ? 'firing' : 'resolved',
        reason: g.lastNotified === null ? 'initial' : firingOut.length === 0 ? 'resolved' : fresh || sendResolved ? 'update' : 'repeat',
        severity: severityOf(firingOut.length > 0 ? firingOut : resolvedOut),
        firing: firingOut,
        resolved: resolvedOut,
        at: new Date(nowMs).toISOString(),
      });
      for (const a of firing) g.alerts[a.fingerprint]!.notifiedFiring = true;
      g.lastNotified = {
        firing: firing
          .filter((a) => !a.oneShot)
          .map((a) => a.fingerprint)
          .sort(),
        atMs: nowMs,
      };
    }
    // Forget what is over: resolved alerts (sent or never sent) and notified one-shots.
    for (const a of records) if (a.resolvedAtMs !== null || (a.oneShot && g.alerts[a.fingerprint]!.notifiedFiring)) delete g.alerts[a.fingerprint];
    g.lastFlushMs = nowMs;
    const left = Object.values(g.alerts);
    if (left.length === 0) continue; // the group is done
    const waiting = left.filter((a) => !a.notifiedFiring || !isFiring(a, nowMs));
    const pendingAt = waiting.map((a) => Math.max(a.activeAtMs, nowMs + cfg.groupIntervalMs));
    const repeatAt = g.lastNotified && g.lastNotified.firing.length > 0 ? g.lastNotified.atMs + cfg.repeatIntervalMs : Infinity;
    const next = Math.min(repeatAt, ...pendingAt);
    g.nextFlushMs = Number.isFinite(next) ? next : null;
    groups[key] = g;
  }
  return { state: { ...state, groups }, notifications };
}

/** When `tick` next has something to do (null: nothing is scheduled). */
export function nextWakeAt(state: AlertingState): string | null {
  const times = Object.values(state.groups)
    .map((g) => g.nextFlushMs)
    .filter((t): t is number => t !== null);
  return times.length > 0 ? new Date(Math.min(...times)).toISOString() : null;
}
