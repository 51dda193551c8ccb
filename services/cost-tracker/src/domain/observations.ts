/**
 * From the events the cost-tracker consumes to the observations the session reducer records.
 * Pure: facts the events do not carry (a destination's preset settings: `DestinationUpdated` only
 * says the preset changed) come in through `ctx`, which the wiring fills from the destination
 * store. Unknown events and versions give no observation.
 *
 * State mapping (MediaLive ChannelState → billing state; MediaLive bills a channel while it runs):
 *
 *   RUNNING                           running (recovering when the push is failing and retrying)
 *   RECOVERING                        recovering (still the same run)
 *   STOPPING                          running (billed until it has stopped)
 *   CREATING, IDLE, STARTING,         idle (the channel exists and does not run: idle charge)
 *   UPDATING, UPDATE_FAILED, CREATE_FAILED
 *   DELETING, DELETED                 absent
 *
 * MediaConnect flow status: ACTIVE and STOPPING → running; STANDBY, STARTING → idle (standby is
 * free); ERROR → idle (failed); DELETING → absent; UPDATING → no change.
 */
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import { findEvent } from '../../../../events/catalogue.ts';
import type { EncodeProfile } from './bands.ts';
import type { EndReason, Observation, ObservedState, SessionAttributes } from './sessions.ts';

/** What the wiring knows about a destination beyond its events. */
export interface DestinationFacts {
  name: string;
  platform: string;
  presetId: string;
  encode: EncodeProfile;
}

/** The stack's flow has two sources on AWS (serverless.yml ContributionFlow `srt-in` + ContributionBackupSource `srt-backup`). */
export const AWS_FLOW_SOURCES = 2;

export interface ObservationContext {
  engine: 'aws' | 'local';
  destination: (destinationId: string) => DestinationFacts | undefined;
  /** The primary channel's renditions (serverless.yml's PrimaryChannel). */
  primaryEncodes: EncodeProfile[];
  /** Attributes every channel gets (class, input spec, push inputs) from configuration. */
  channelDefaults?: Partial<SessionAttributes>;
}

/** An event as it arrives: EventBridge's source and detail-type, and its `detail`. */
export interface ReceivedEvent {
  source: string;
  detailType: string;
  detail: unknown;
}

export function channelStateToObserved(state: ChannelState, pushFailing: boolean): ObservedState {
  switch (state) {
    case 'RUNNING':
      return pushFailing ? 'recovering' : 'running';
    case 'RECOVERING':
      return 'recovering';
    case 'STOPPING':
      return 'running';
    case 'DELETING':
    case 'DELETED':
      return 'absent';
    default:
      return 'idle';
  }
}

export function flowStateToObserved(state: string): { state: ObservedState; reason?: EndReason } | null {
  switch (state) {
    case 'ACTIVE':
    case 'STOPPING':
      return { state: 'running' };
    case 'STANDBY':
    case 'STARTING':
      return { state: 'idle' };
    case 'ERROR':
      return { state: 'idle', reason: 'failed' };
    case 'DELETING':
      return { state: 'absent' };
    default:
      return null;
  }
}

function destinationAttributes(ctx: ObservationContext, destinationId: string): Partial<SessionAttributes> {
  const f = ctx.destination(destinationId);
  const base: Partial<SessionAttributes> = { engine: ctx.engine, ...ctx.channelDefaults };
  return f ? { ...base, destinationName: f.name, platform: f.platform, presetId: f.presetId, encodes: [f.encode] } : base;
}

interface Detail<D> {
  id: string;
  occurredAt: string;
  data: D;
}

/** The observations one event gives (none for events that do not bear on cost). */
export function observationsFromEvent(e: ReceivedEvent, ctx: ObservationContext): Observation[] {
  const version = (e.detail as { version?: unknown } | null)?.version;
  const def = typeof version === 'number' ? findEvent(e.source, e.detailType, version) : undefined;
  if (!def) return [];
  const parsed = def.detail.safeParse(e.detail);
  if (!parsed.success) return [];
  const d = parsed.data as Detail<Record<string, unknown>>;
  const data = d.data;
  const dest = (id: string) => ({ kind: 'destination-channel' as const, id, destinationId: id });
  switch (`${e.source} ${e.detailType}`) {
    case 'fanout.channel-provisioner ChannelStateChanged': {
      const id = data.destinationId as string;
      const state = channelStateToObserved(data.state as ChannelState, data.error !== null);
      return [{ eventId: d.id, observedAt: data.observedAt as string, resource: dest(id), state, attributes: destinationAttributes(ctx, id) }];
    }
    case 'fanout.channel-provisioner ChannelDeleted':
      return [{ eventId: d.id, observedAt: d.occurredAt, resource: dest(data.destinationId as string), state: 'absent', reason: 'deleted' }];
    case 'fanout.channel-provisioner ChannelReclaimed':
      return [{ eventId: d.id, observedAt: d.occurredAt, resource: dest(data.destinationId as string), state: 'absent', reason: 'reclaimed' }];
    case 'fanout.destination DestinationCreated': {
      const id = data.destinationId as string;
      const attrs = destinationAttributes(ctx, id);
      return [{ eventId: d.id, observedAt: d.occurredAt, resource: dest(id), attributes: { ...attrs, destinationName: data.name as string, platform: data.platform as string, presetId: data.preset as string } }];
    }
    case 'fanout.destination DestinationUpdated': {
      const id = data.destinationId as string;
      const changed = data.changed as string[];
      if (!changed.includes('preset') && !changed.includes('name')) return [];
      return [{ eventId: d.id, observedAt: d.occurredAt, resource: dest(id), attributes: destinationAttributes(ctx, id) }];
    }
    case 'fanout.destination DestinationDeleted':
      return [{ eventId: d.id, observedAt: d.occurredAt, resource: dest(data.destinationId as string), state: 'absent', reason: 'deleted' }];
    case 'fanout.flow-output FlowStateChanged': {
      const out: Observation[] = [];
      const mapped = flowStateToObserved(data.state as string);
      const flow = { kind: 'flow' as const, id: data.flowArn as string, destinationId: null };
      const attributes: Partial<SessionAttributes> = { engine: ctx.engine, flowOutputs: data.outputs as number, pushInputs: 0, flowSources: ctx.engine === 'aws' ? AWS_FLOW_SOURCES : 1 };
      out.push({ eventId: d.id, observedAt: d.occurredAt, resource: flow, attributes, ...(mapped ?? {}) });
      const primary = data.primary as { channelId: string | null; state: ChannelState | null; error: unknown } | null | undefined;
      if (primary?.channelId && primary.state)
        out.push({
          eventId: `${d.id}#primary`,
          observedAt: d.occurredAt,
          resource: { kind: 'primary-channel', id: primary.channelId, destinationId: null },
          state: channelStateToObserved(primary.state, false),
          attributes: { engine: ctx.engine, ...ctx.channelDefaults, destinationName: 'primary output', encodes: ctx.primaryEncodes },
        });
      return out;
    }
    default:
      return [];
  }
}
