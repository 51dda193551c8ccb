/**
 * The local media engine: `LocalMediaEngine` implements the `FlowEngine` and `ChannelEngine` ports
 * with the SRT ingest (`ingest/`, fanout-srt over libsrt) and FFmpeg (topology in
 * `local-media-engine.ts`), emitting the native AWS events. `spawnTestSource` runs a test
 * contribution (`npm run test-source`).
 */
export {
  type EngineProcess,
  encoderKey,
  LocalMediaEngine,
  type LocalMediaEngineOptions,
  type PrimaryHlsStatus,
} from './local-media-engine.ts';
export { encoderArgs, hlsArgs } from './argv.ts';
export { ingestArgs, SRT_PASSPHRASE_PATTERN, testSourceArgs, type TestSourceOptions } from './ingest/argv.ts';
export { ingestBinary } from './ingest/binary.ts';
export { type SpawnTestSourceOptions, spawnTestSource } from './ingest/test-source.ts';
export { CHANNEL_TRANSITIONS, isLegalTransition, LOCAL_ENGINE_ERRORS, MediaEngineError, type MediaEngineErrorCode } from './channel-lifecycle.ts';
export { ALERT_TYPES, channelArn, destinationIdOfOutputArn, FLOW_ARN, outputArn, SOURCE_ARN } from './native-events.ts';
export { SrtIngestMonitor, type SrtIngestEvent, type SrtIngestState } from './ingest/monitor.ts';
export { TsHub, type TsHubStats } from './ts-hub.ts';
