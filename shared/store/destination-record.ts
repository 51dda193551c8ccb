/**
 * The destination record as stored in the destinations table: one type for the service that owns
 * and writes it (services/destination re-exports it from its domain) and for the services that
 * read it (channel-provisioner and flow-output, through `DestinationReader`).
 *
 * Why here: services may not import each other (.dependency-cruiser.cjs), and events/ holds only
 * what travels on the bus, which this record does not (events carry ids). shared/store is the
 * library both sides already use for their tables, so the stored shape lives beside them; the
 * value types it is made of (status, desired state, last error) are the events' own, so a record
 * and the events about it cannot drift apart either.
 */
import type { DesiredState, DestinationStatus } from '../../events/destination/common.ts';
import type { LastError } from '../../events/envelope.ts';

export interface DestinationRecord {
  destinationId: string;
  name: string;
  platform: string;
  /** Ingest URL without the stream key. */
  rtmpUrl: string;
  streamKeyCiphertext: string;
  streamKeyLast4: string | null;
  preset: string;
  status: DestinationStatus;
  desired: DesiredState;
  mediaLiveChannelId: string | null;
  mediaConnectOutputArn: string | null;
  /** Its channel and input/output were deleted after an idle time; the next start re-creates them (ADR 0008). Absent on older records. */
  channelReclaimed?: boolean;
  lastError: LastError | null;
  /** Time of the newest engine observation applied, to drop stale, reordered events. */
  lastObservedAt: string | null;
  version: number;
  createdAt: string;
  lastModified: string;
}

/** Fields a record written by an older Fanout may lack (the reader applies no upgrade). */
type AddedLater = 'mediaLiveChannelId' | 'channelReclaimed' | 'lastObservedAt' | 'lastModified';

/**
 * What the other services read of a destination: the fields they use, typed by the record, the
 * ones added later optional; `tombstone` marks a deleted record whose events are still going out.
 */
export type DestinationReadModel = Pick<DestinationRecord, 'destinationId' | 'name' | 'platform' | 'rtmpUrl' | 'streamKeyCiphertext' | 'preset' | 'status' | 'desired' | 'mediaConnectOutputArn'> &
  Partial<Pick<DestinationRecord, AddedLater>> & { tombstone?: boolean };
