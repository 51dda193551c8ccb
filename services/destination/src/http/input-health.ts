/**
 * The body of GET /api/mediaconnect/inputs/health, also broadcast as the `input.health` stream
 * event: the active input's health at the top level (the answer before issue 15, unchanged), and,
 * where the engine has a backup input, both inputs, the active one, the mode and settings, the last
 * switch and the slate beside it (ADR 0024).
 */
import type { InputHealth, InputRedundancy } from '../../../../shared/engines/port/ports.ts';

export async function inputHealthBody(inputHealth: () => Promise<InputHealth>, inputs?: InputRedundancy) {
  const [active, both] = await Promise.all([inputHealth(), inputs?.inputsHealth()]);
  if (!both) return active;
  return { ...active, active: both.active, mode: both.settings.mode, settings: both.settings, lastSwitch: both.lastSwitch, inputs: both.inputs, slate: both.slate };
}

/** Whether an engine implements the port's InputRedundancy (the memory engine does; the others as they gain it). */
export function hasInputRedundancy(engine: object): engine is InputRedundancy {
  const e = engine as Partial<Record<keyof InputRedundancy, unknown>>;
  return typeof e.inputsHealth === 'function' && typeof e.switchInput === 'function' && typeof e.testBackupInput === 'function' && typeof e.setFailover === 'function';
}
