/** The engine contract (shared/engines/port/contract.ts) on the memory engine, input redundancy included. */
import { engineContract } from '../port/contract.ts';
import type { NativeEngineEvent } from '../port/ports.ts';
import { MemoryEngine } from './memory-engine.ts';

engineContract('MemoryEngine', () => {
  const events: NativeEngineEvent[] = [];
  const engine = new MemoryEngine({ sink: (e) => events.push(e), transitionMs: 5 });
  return {
    engine,
    events,
    close: () => engine.close(),
    redundancy: {
      engine,
      connect: async (input) => engine.connectInput(input),
      lose: async (input) => engine.loseInput(input),
    },
  };
});
