/**
 * The failover rules of the port (issue 15), as a pure state machine: no timers, no I/O, the
 * clock passed in. The memory engine and the local engine drive it with what they see of their
 * inputs (when each last delivered media) and act on the switches it returns; the AWS engine
 * leaves the rules to MediaConnect and MediaLive.
 *
 * The rules, modelled on MediaLive automatic input failover and MediaConnect source failover:
 *
 *   active null    the first input that delivers becomes active (the main if both do): not a switch
 *   active input   it delivered nothing for inputLossThresholdMs:
 *                    automatic and the other input delivers  → the other   (input-loss)
 *                    otherwise (manual, or nothing delivers) → the slate   (input-loss)
 *                  automatic, active = backup, errorClearTimeMs not null, the main delivering
 *                  without a break for errorClearTimeMs (counted from the switch to the
 *                  backup at the earliest: a manual switch holds that long too) → the main (recovered)
 *   active slate   automatic: the main if it delivers, else the backup   (recovered)
 *                  manual: only the input that was lost returns by itself (recovered)
 *                  slateTimeoutMs after the slate went on air: one slate→slate switch
 *                  (slate-timeout); the outputs stop (the destination service stops them)
 *   any            `manual(to)`: the operator's switch (manual), in either mode
 *
 * An input "delivers" while its last media is at most inputLossThresholdMs old. Its clean time
 * starts when it starts delivering after a break, as the engine observed it.
 */
import type { FailoverSettings, InputName, InputSwitch } from './ports.ts';

export const DEFAULT_FAILOVER: FailoverSettings = { mode: 'automatic', inputLossThresholdMs: 1000, errorClearTimeMs: 10_000, slateTimeoutMs: 300_000 };

/** When each input last delivered media (epoch ms), null if never or not configured. */
export type LastMedia = Record<InputName, number | null>;

/** A switch to act on, with when the slate stops (only when the slate goes on air). */
export interface FailoverStep {
  switch: InputSwitch;
  slateStopsAt: string | null;
}

export type ActiveSource = InputName | 'slate' | null;

export class FailoverController {
  #settings: FailoverSettings;
  #active: ActiveSource = null;
  #lastSwitch: InputSwitch | null = null;
  #slate: { since: string; stopsAt: string; stopsAtMs: number; timedOut: boolean } | null = null;
  /** The input whose loss put the slate on air. */
  #lostInput: InputName | null = null;
  /** Since when each input has delivered without a break (as observed), null while it does not. */
  readonly #cleanSince: Record<InputName, number | null> = { main: null, backup: null };
  #last: LastMedia = { main: null, backup: null };

  constructor(settings: FailoverSettings = DEFAULT_FAILOVER) {
    this.#settings = { ...settings };
  }

  get settings(): FailoverSettings {
    return { ...this.#settings };
  }

  get active(): ActiveSource {
    return this.#active;
  }

  get lastSwitch(): InputSwitch | null {
    return this.#lastSwitch;
  }

  /** While the slate is (or stays, after its timeout) on air: since when and when outputs stop. */
  get slate(): { since: string; stopsAt: string } | null {
    return this.#slate ? { since: this.#slate.since, stopsAt: this.#slate.stopsAt } : null;
  }

  /** Whether the slate's time is over (the outputs were told to stop). */
  get slateTimedOut(): boolean {
    return this.#slate?.timedOut ?? false;
  }

  /** Whether `name` delivers media at `now` (its last media at most inputLossThresholdMs old). */
  delivering(name: InputName, now: number): boolean {
    const t = this.#last[name];
    return t !== null && now - t <= this.#settings.inputLossThresholdMs;
  }

  /**
   * Replaces the settings; the rules apply to them from the next `observe`. A slate on air (not yet
   * timed out) stops at its start plus the new slateTimeoutMs.
   */
  setSettings(settings: FailoverSettings): void {
    this.#settings = { ...settings };
    const slate = this.#slate;
    if (slate && !slate.timedOut) {
      slate.stopsAtMs = Date.parse(slate.since) + settings.slateTimeoutMs;
      slate.stopsAt = new Date(slate.stopsAtMs).toISOString();
    }
  }

  /** Forgets the active input and the slate (the flow stopped): the next input to deliver becomes active. */
  reset(): void {
    this.#active = null;
    this.#slate = null;
    this.#lostInput = null;
    this.#cleanSince.main = null;
    this.#cleanSince.backup = null;
    this.#last = { main: null, backup: null };
  }

  /**
   * Applies the rules to the inputs as they are at `now`.
   * @returns the switches to act on, in order (usually none)
   */
  observe(now: number, last: LastMedia): FailoverStep[] {
    this.#last = { ...last };
    for (const name of ['main', 'backup'] as const) {
      if (!this.delivering(name, now)) this.#cleanSince[name] = null;
      else this.#cleanSince[name] ??= now;
    }
    const steps: FailoverStep[] = [];
    const s = this.#settings;
    const active = this.#active;
    if (active === null) {
      const first = this.delivering('main', now) ? 'main' : this.delivering('backup', now) ? 'backup' : null;
      if (first) this.#active = first;
      return steps;
    }
    if (active === 'slate') {
      const candidates: InputName[] = s.mode === 'automatic' ? ['main', 'backup'] : this.#lostInput ? [this.#lostInput] : [];
      const back = candidates.find((name) => this.delivering(name, now));
      if (back) steps.push(this.#switchTo(back, 'recovered', now));
      else if (this.#slate && !this.#slate.timedOut && now >= this.#slate.stopsAtMs) {
        this.#slate.timedOut = true;
        const timedOut: InputSwitch = { from: 'slate', to: 'slate', at: new Date(now).toISOString(), reason: 'slate-timeout' };
        this.#lastSwitch = timedOut;
        steps.push({ switch: timedOut, slateStopsAt: null });
      }
      return steps;
    }
    if (!this.delivering(active, now)) {
      const other: InputName = active === 'main' ? 'backup' : 'main';
      steps.push(this.#switchTo(s.mode === 'automatic' && this.delivering(other, now) ? other : 'slate', 'input-loss', now));
      return steps;
    }
    const clean = this.#revertClock();
    if (s.mode === 'automatic' && s.errorClearTimeMs !== null && active === 'backup' && clean !== null && now - clean >= s.errorClearTimeMs) {
      steps.push(this.#switchTo('main', 'recovered', now));
    }
    return steps;
  }

  /**
   * The operator's switch to `to`, which must deliver at `now` (the caller checks and says why not).
   * @returns null when `to` is already active (nothing to do)
   */
  manual(to: InputName, now: number): FailoverStep | null {
    if (this.#active === to) return null;
    return this.#switchTo(to, 'manual', now);
  }

  /**
   * When `observe` may next have something to do without any input changing (a loss due, a
   * revert due, the slate's timeout), for engines that schedule a timer rather than tick; null: nothing pending.
   */
  nextDueAt(): number | null {
    const s = this.#settings;
    const due: number[] = [];
    const active = this.#active;
    if (active === 'main' || active === 'backup') {
      const t = this.#last[active];
      if (t !== null) due.push(t + s.inputLossThresholdMs + 1);
      const clean = this.#revertClock();
      if (active === 'backup' && s.mode === 'automatic' && s.errorClearTimeMs !== null && clean !== null) due.push(clean + s.errorClearTimeMs);
    }
    if (active === 'slate' && this.#slate && !this.#slate.timedOut) due.push(this.#slate.stopsAtMs);
    return due.length > 0 ? Math.min(...due) : null;
  }

  /**
   * Since when the main counts as clean for a switch back: since it delivers without a break, but
   * not before the switch to the backup (a manual switch to it holds for errorClearTimeMs too).
   */
  #revertClock(): number | null {
    const clean = this.#cleanSince.main;
    if (clean === null) return null;
    const switchedAt = this.#lastSwitch ? Date.parse(this.#lastSwitch.at) : Number.NEGATIVE_INFINITY;
    return Math.max(clean, switchedAt);
  }

  #switchTo(to: InputName | 'slate', reason: InputSwitch['reason'], now: number): FailoverStep {
    const from = this.#active;
    const sw: InputSwitch = { from, to, at: new Date(now).toISOString(), reason };
    this.#active = to;
    this.#lastSwitch = sw;
    if (to === 'slate') {
      if (from === 'main' || from === 'backup') this.#lostInput = from;
      const stopsAtMs = now + this.#settings.slateTimeoutMs;
      this.#slate = { since: sw.at, stopsAt: new Date(stopsAtMs).toISOString(), stopsAtMs, timedOut: false };
      return { switch: sw, slateStopsAt: this.#slate.stopsAt };
    }
    this.#slate = null;
    return { switch: sw, slateStopsAt: null };
  }
}

/** The native event of a switch, as MediaConnect's source failover reports it (AWS and every engine). */
export function failoverSwitchDetail(step: FailoverStep, mode: FailoverSettings['mode']): Record<string, unknown> {
  const sw = step.switch;
  return { previous_source: sw.from, current_source: sw.to, reason: sw.reason, switched_at: sw.at, failover_mode: mode, slate_stops_at: step.slateStopsAt };
}
