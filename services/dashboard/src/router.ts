/**
 * The app's few routes, on the History API: / (streaming), /admin, /admin/<page>. Links are plain
 * <a href> (keyboard and middle-click work); same-origin clicks are turned into pushState.
 */
import { signal } from '@preact/signals';

export const path = signal(location.pathname);

export function navigate(to: string): void {
  if (to === location.pathname) return;
  history.pushState(null, '', to);
  path.value = location.pathname;
  window.scrollTo(0, 0);
}

/** Installs the listeners (once, at start). */
export function installRouter(): void {
  window.addEventListener('popstate', () => (path.value = location.pathname));
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = (ev.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || !(url.pathname === '/' || url.pathname.startsWith('/admin'))) return;
    ev.preventDefault();
    navigate(url.pathname);
  });
}
