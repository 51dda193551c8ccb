/**
 * The destination record (the original plan's, plus the wanted state, the typed last error and a
 * version for optimistic concurrency) and its public view. The stream key is stored only as
 * ciphertext; the view shows at most its last four characters.
 */
import type { LastError } from '../../../../events/envelope.ts';
import type { DestinationRecord } from '../../../../shared/store/destination-record.ts';
import type { DesiredState, DestinationStatus } from './lifecycle.ts';

/** The stored record; its type lives in shared/store so the services that read it share it. */
export type { DestinationRecord } from '../../../../shared/store/destination-record.ts';

export interface DestinationView {
  destinationId: string;
  name: string;
  platform: string;
  rtmpUrl: string;
  streamKeyLast4: string | null;
  preset: string;
  status: DestinationStatus;
  desired: DesiredState;
  mediaLiveChannelId: string | null;
  mediaConnectOutputArn: string | null;
  channelReclaimed: boolean;
  lastError: LastError | null;
  version: number;
  createdAt: string;
  lastModified: string;
}

/** What the list index holds of a destination (ADR 0025): the record without its secrets and bookkeeping, enough for its view. */
export type DestinationListItem = Omit<DestinationRecord, 'streamKeyCiphertext' | 'lastObservedAt'>;

export function toView(r: DestinationListItem): DestinationView {
  return {
    destinationId: r.destinationId,
    name: r.name,
    platform: r.platform,
    rtmpUrl: r.rtmpUrl,
    streamKeyLast4: r.streamKeyLast4,
    preset: r.preset,
    status: r.status,
    desired: r.desired,
    mediaLiveChannelId: r.mediaLiveChannelId,
    mediaConnectOutputArn: r.mediaConnectOutputArn,
    channelReclaimed: r.channelReclaimed === true,
    lastError: r.lastError,
    version: r.version,
    createdAt: r.createdAt,
    lastModified: r.lastModified,
  };
}
