/**
 * The event envelope every Fanout domain event travels in, on EventBridge and on the local bus:
 *
 *   source       = the emitting service, e.g. `fanout.destination`
 *   detail-type  = the event name, e.g. `DestinationCreated`
 *   detail       = { version, id, occurredAt, correlationId, data }
 *
 * A breaking change to `data` gets a new `version` (a new schema file beside the old one);
 * consumers declare every version they accept. Events never carry secrets: they carry ids, and a
 * consumer that needs a stream key reads it from the store.
 */
import { z } from 'zod';

export const SOURCES = {
  destination: 'fanout.destination',
  flowOutput: 'fanout.flow-output',
  channelProvisioner: 'fanout.channel-provisioner',
  costTracker: 'fanout.cost-tracker',
  notifier: 'fanout.notifier',
} as const;
export type EventSource = (typeof SOURCES)[keyof typeof SOURCES];

export interface EventDefinition<Name extends string = string, V extends number = number, D extends z.ZodType = z.ZodType> {
  source: EventSource;
  name: Name;
  version: V;
  description: string;
  data: D;
  /** The full `detail` schema: the envelope around `data`. */
  detail: z.ZodObject<{
    version: z.ZodLiteral<V>;
    id: z.ZodString;
    occurredAt: z.ZodString;
    correlationId: z.ZodString;
    data: D;
  }>;
}

/** Declares one event at one version. */
export function defineEvent<const Name extends string, const V extends number, D extends z.ZodType>(spec: { source: EventSource; name: Name; version: V; description: string; data: D }): EventDefinition<Name, V, D> {
  const detail = z
    .object({
      version: z.literal(spec.version),
      id: z.string().uuid(),
      occurredAt: z.string().datetime({ offset: true }),
      correlationId: z.string().min(1).max(200),
      data: spec.data,
    })
    .strict()
    .describe(`${spec.source} ${spec.name} v${spec.version}: ${spec.description}`);
  return { ...spec, detail } as EventDefinition<Name, V, D>;
}

export type EventDetail<E extends EventDefinition> = z.output<E['detail']>;
export type EventData<E extends EventDefinition> = z.output<E['data']>;

/** A typed error as carried in events and shown in status (never raw stderr, never a secret). */
export const LastErrorSchema = z
  .object({
    code: z.string().min(1).max(64),
    message: z.string().max(500),
    hint: z.string().max(500),
  })
  .strict();
export type LastError = z.output<typeof LastErrorSchema>;

export const DestinationIdSchema = z.string().uuid();
/** The destination's `version` after the write that produced the event: consumers drop stale events with it. */
export const AggregateVersionSchema = z.number().int().min(1);
