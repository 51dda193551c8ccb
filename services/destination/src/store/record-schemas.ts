/**
 * The stored shapes of the destination service's records and how each older shape is upgraded
 * (shared/store/schema-version.ts, ADR 0017). Version 1 is what Fanout wrote before records carried
 * a version. Version 2 is the shape validation at the door guarantees:
 *
 *   - destinations and platforms: ingest URLs in their normalised form (domain/ingest-url.ts). The
 *     old code kept an IDN host percent-encoded (`ingest.b%C3%BCcher.example`), which no resolver
 *     finds; it is now punycode. A URL the door would refuse today is kept as it is: a migration
 *     never drops data, and the engine reports what it cannot use.
 *   - presets: a level stored as `auto` becomes the level chosen for its encode (domain/encoding.ts),
 *     so both engines are given the same level; one that fits no level stays `auto`.
 *
 * Version 3 (destinations only): the keys of the list index `byCreation` (`listKey`, `listSort`),
 * which GET /api/destinations pages through (ADR 0025); a deleted (tombstoned) record has none, so
 * it leaves the index. The migration at start-up (and the outbox relay's, on AWS) gives them to
 * records written before.
 */
import type { RecordSchema } from '../../../../shared/store/schema-version.ts';
import { chooseLevel } from '../domain/encoding.ts';
import { parseIngestUrl } from '../domain/ingest-url.ts';

function normalisedUrl(url: unknown): unknown {
  if (typeof url !== 'string') return url;
  const parsed = parseIngestUrl(url);
  return parsed.ok ? parsed.value.url : url;
}

/** The list index's partition (serverless.yml `byCreation`): one for every live destination. */
export const LIST_KEY = 'destination';
/** The list index's sort key: creation time, then id (the list's order). */
export const listSort = (r: { createdAt: string; destinationId: string }): string => `${r.createdAt}#${r.destinationId}`;

export const DESTINATION_SCHEMA: RecordSchema = {
  name: 'destination',
  version: 3,
  steps: {
    1: (r) => ({ ...r, rtmpUrl: normalisedUrl(r.rtmpUrl) }),
    // Version 3: the keys of the list index (ADR 0025), so a record written before it is listed.
    2: (r) => (r.tombstone === true ? r : { ...r, listKey: LIST_KEY, listSort: listSort(r as { createdAt: string; destinationId: string }) }),
  },
};

export const PLATFORM_SCHEMA: RecordSchema = {
  name: 'platform',
  version: 2,
  steps: {
    1: (r) => ({ ...r, rtmpUrl: normalisedUrl(r.rtmpUrl), rtmpsUrl: normalisedUrl(r.rtmpsUrl) }),
  },
};

type StoredVideo = { resolution: string; frameRate: number; bitrate: number; profile: 'baseline' | 'main' | 'high'; level: string };

export const PRESET_SCHEMA: RecordSchema = {
  name: 'preset',
  version: 2,
  steps: {
    1: (r) => {
      const video = r.video as StoredVideo | null | undefined;
      if (!video || video.level !== 'auto') return r;
      const chosen = chooseLevel(video);
      return chosen ? { ...r, video: { ...video, level: chosen.level } } : r;
    },
  },
};
