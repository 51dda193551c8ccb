import { z } from 'zod';

/** MediaLive's ChannelState enum (official model), used by both engines. */
export const ChannelStateSchema = z.enum(['CREATING', 'CREATE_FAILED', 'IDLE', 'STARTING', 'RUNNING', 'RECOVERING', 'STOPPING', 'DELETING', 'DELETED', 'UPDATING', 'UPDATE_FAILED']);
export type ChannelState = z.output<typeof ChannelStateSchema>;
