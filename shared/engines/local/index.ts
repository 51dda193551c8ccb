/**
 * The local media engine's public surface: what a runtime composes it from. Everything else in this
 * folder (the flow hub, the RTMP fan-out, the process supervisor) is the engine's own business.
 */
export { createLocalMediaEngine, srtPassphrase } from './factory.ts';
export type { EngineProcess } from './engine/local-media-engine.ts';
export { spawnTestSource } from './engine/ingest/test-source.ts';
