/**
 * The notifier's use cases built once per deps object, so the inbox, the tick and the API of one
 * process (one Lambda container, or the local runtime) share one Notifier.
 */
import { Notifier } from '../app/notifier.ts';
import type { NotifierDeps } from '../deps.ts';

const built = new WeakMap<NotifierDeps, Notifier>();

export function notifierFor(deps: NotifierDeps): Notifier {
  let n = built.get(deps);
  if (!n) {
    n = new Notifier(deps);
    built.set(deps, n);
  }
  return n;
}
