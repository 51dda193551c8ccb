/**
 * The input health of a contribution nobody is sending: not connected, no figures, no error. Every
 * engine starts from it (before its ingest runs, while its flow is not ACTIVE) and fills in what it
 * measures, so the "nobody connected" shape is written once.
 */
import type { InputHealth } from './ports.ts';

/** Not connected, every figure null, no error; `updatedAt` is `at` (now by default). */
export function idleInputHealth(at: Date = new Date()): InputHealth {
  return {
    connected: false,
    sourceAddress: null,
    connectedSince: null,
    bitrateInKbps: null,
    packetLossPercent: null,
    packetsLost: null,
    retransmits: null,
    rttMs: null,
    lastError: null,
    updatedAt: at.toISOString(),
  };
}
