/** The in-memory engine's public surface: an engine with no media, for tests of the services. */
export { MemoryEngine } from './memory-engine.ts';
