/** Value schemas shared by the destination service's events. */
import { z } from 'zod';

export const DESTINATION_STATUSES = ['idle', 'creating', 'starting', 'running', 'stopping', 'deleting', 'error'] as const;
export const DestinationStatusSchema = z.enum(DESTINATION_STATUSES);
export type DestinationStatus = z.output<typeof DestinationStatusSchema>;

export const DesiredStateSchema = z.enum(['running', 'stopped']);
export type DesiredState = z.output<typeof DesiredStateSchema>;
