/**
 * Small shared pieces: the API's problem shown as it says it (detail and hint), copy buttons, a
 * secret shown once,
 * a confirmation dialog (the native <dialog>: focus kept inside, Escape cancels), status chips and
 * platform badges. Everything renders text through JSX: user input is never markup.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { Problem } from '../api/types.ts';

export function ProblemView({ problem, title }: { problem: Problem | null | undefined; title?: string }) {
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <p class="problem-detail">
        {title ? <strong>{title}: </strong> : null}
        {problem.detail || problem.code}
      </p>
      {problem.hint ? <p class="problem-hint">{problem.hint}</p> : null}
      <p class="problem-code">{problem.code}</p>
    </div>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<'copied' | 'failed' | null>(null);
  useEffect(() => {
    if (!done) return;
    const t = setTimeout(() => setDone(null), 2000);
    return () => clearTimeout(t);
  }, [done]);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('failed');
    }
  };
  return (
    <button type="button" class="btn btn-small" onClick={() => void copy()} aria-label={label}>
      {done === 'copied' ? 'Copied' : done === 'failed' ? 'Copy failed' : 'Copy'}
    </button>
  );
}

/**
 * A secret the API returns once (a new token, a webhook signing secret): the words around it, the
 * value with a copy button, and a button that hides it for good.
 */
export function OneTimeSecret(props: { testId: string; value: string; copyLabel: string; onDone: () => void; children: ComponentChildren }) {
  return (
    <div class="banner banner-ok" role="status" data-testid={props.testId}>
      <p>{props.children}</p>
      <div class="url-row">
        <code class="url">{props.value}</code>
        <CopyButton text={props.value} label={props.copyLabel} />
      </div>
      <button type="button" class="btn btn-small" onClick={props.onDone}>
        Done, hide it
      </button>
    </div>
  );
}

/** A modal confirmation: `onConfirm` runs when the person says yes. */
export function ConfirmDialog(props: { open: boolean; title: string; confirmLabel: string; danger?: boolean; onConfirm: () => void; onCancel: () => void; children?: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="dialog" aria-labelledby={titleId} onClose={() => props.open && props.onCancel()}>
      <h2 id={titleId}>{props.title}</h2>
      <div class="dialog-body">{props.children}</div>
      <div class="actions">
        <button type="button" class="btn" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'btn btn-danger' : 'btn btn-primary'} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

const STATUS_WORDS: Record<string, string> = {
  creating: 'Preparing',
  idle: 'Stopped',
  starting: 'Starting',
  running: 'Running',
  stopping: 'Stopping',
  deleting: 'Removing',
  error: 'Error',
};

/** A status in colour *and* words. */
export function StatusChip({ status }: { status: string }) {
  return (
    <span class={`chip chip-${status}`} data-status={status}>
      {STATUS_WORDS[status] ?? status}
    </span>
  );
}

const PLATFORM_MARKS: Record<string, { mark: string; cls: string }> = {
  youtube: { mark: 'YT', cls: 'pf-youtube' },
  twitch: { mark: 'TW', cls: 'pf-twitch' },
  facebook: { mark: 'FB', cls: 'pf-facebook' },
  linkedin: { mark: 'in', cls: 'pf-linkedin' },
  custom: { mark: 'RTMP', cls: 'pf-custom' },
};

/** The platform's mark (initials on its colour); its name for screen readers. */
export function PlatformBadge({ platform, name }: { platform: string; name?: string }) {
  const m = PLATFORM_MARKS[platform] ?? { mark: platform.slice(0, 2).toUpperCase(), cls: 'pf-custom' };
  return (
    <span class={`pf ${m.cls}`} role="img" aria-label={name ?? platform} title={name ?? platform}>
      {m.mark}
    </span>
  );
}

/** A labelled field with its error from the API right next to it. */
export function Field(props: { id: string; label: string; error?: string | undefined; hint?: string; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? ' field-invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint ? (
        <p class="field-hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** aria attributes tying an input to its hint and error. */
export function described(id: string, error: string | undefined, hint?: boolean): Record<string, string | boolean> {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { ...(ids ? { 'aria-describedby': ids } : {}), ...(error ? { 'aria-invalid': true } : {}) };
}
