/**
 * The local media engine: `LocalMediaEngine` implements the `FlowEngine` and `ChannelEngine` ports
 * with srt-live-transmit and FFmpeg (topology in `local-media-engine.ts`), emitting the native AWS
 * events. `testSourceArgs` builds the FFmpeg command of a test contribution (`npm run test-source`).
 */
export {
  type EngineProcess,
  encoderKey,
  LocalMediaEngine,
  type LocalMediaEngineOptions,
  type PrimaryHlsStatus,
} from './local-media-engine.ts';
export {
  encoderArgs,
  hlsArgs,
  ingestArgs,
  SRT_PASSPHRASE_PATTERN,
  testSourceArgs,
  type TestSourceOptions,
} from './argv.ts';
export { CHANNEL_TRANSITIONS, isLegalTransition, LOCAL_ENGINE_ERRORS, MediaEngineError, type MediaEngineErrorCode } from './channel-lifecycle.ts';
export { ALERT_TYPES, channelArn, destinationIdOfOutputArn, FLOW_ARN, outputArn, SOURCE_ARN } from './native-events.ts';
export { SrtIngestMonitor, parseSrtStats, type SrtIngestEvent, type SrtIngestState } from './srt-monitor.ts';
export { TsHub, type TsHubStats } from './ts-hub.ts';
