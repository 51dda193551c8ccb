/**
 * The "Add destination" form as the original plan has it (platform → ingest URL pre-filled, RTMPS
 * where offered → stream key → preset, the platform's own first → name), and the same fields to
 * edit one. Nothing is checked here that the API checks: every field's error comes from the API's
 * problem document and is shown next to its field. The stream key is a password field, sent once
 * and never shown again (editing leaves it unchanged unless a new one is typed).
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, fieldErrors, problemOf } from '../../api/client.ts';
import type { Destination, Problem, Preset } from '../../api/types.ts';
import { described, Field, ProblemView } from '../../components/common.tsx';
import { defaultIngest, loadPlatforms, platforms, presetsFor, requestKey } from '../../state/catalog.ts';
import { destinationIds, entries, upsert } from '../../state/live.ts';
import { api } from '../../state/session.ts';

const FIELDS = ['name', 'platform', 'rtmpUrl', 'streamKey', 'preset'] as const;
/** Problems without field errors that still belong to one field. */
const CODE_FIELD: Record<string, (typeof FIELDS)[number]> = {
  PLATFORM_NOT_FOUND: 'platform',
  PRESET_NOT_FOUND: 'preset',
  PRESET_PLATFORM_MISMATCH: 'preset',
  PRESET_EXCEEDS_PLATFORM_LIMITS: 'preset',
  RTMP_URL_REQUIRED: 'rtmpUrl',
  INGEST_URL_REQUIRED: 'rtmpUrl',
};

function errorsOf(p: Problem | null): { byField: Record<string, string>; rest: Problem | null } {
  if (!p) return { byField: {}, rest: null };
  const byField = fieldErrors(p, FIELDS);
  const field = CODE_FIELD[p.code];
  if (!p.errors?.length && field) byField[field] = p.detail;
  const general = byField[''];
  delete byField[''];
  const rest = Object.keys(byField).length === 0 || general ? { ...p, detail: general ?? p.detail } : null;
  return { byField, rest };
}

export function DestinationForm({ editing, onDone }: { editing?: Destination; onDone: () => void }) {
  const prefix = editing ? `edit-${editing.destinationId.slice(0, 8)}` : 'add';
  const [platform, setPlatform] = useState(editing?.platform ?? '');
  const [rtmpUrl, setRtmpUrl] = useState(editing?.rtmpUrl ?? '');
  // Refs, not state: the effects below run after paint and must see a field typed into meanwhile
  // (a pre-fill from a stale render would overwrite what the person just typed).
  const urlTouched = useRef(Boolean(editing));
  const [streamKey, setStreamKey] = useState('');
  const [preset, setPreset] = useState(editing?.preset ?? '');
  const [name, setName] = useState(editing?.name ?? '');
  const nameTouched = useRef(Boolean(editing));
  const [presets, setPresets] = useState<Preset[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [key] = useState(requestKey);
  const list = platforms.value;

  useEffect(() => {
    void loadPlatforms().then(
      (ps) => {
        if (!editing && !platform && ps[0]) setPlatform(ps.find((p) => p.platformId === 'youtube')?.platformId ?? ps[0].platformId);
      },
      (err: unknown) => setProblem(err instanceof ApiError ? err.problem : null),
    );
  }, []);

  const current = useMemo(() => list?.find((p) => p.platformId === platform), [list, platform]);

  useEffect(() => {
    if (!platform) return;
    if (!urlTouched.current) setRtmpUrl(defaultIngest(current));
    if (!nameTouched.current && current) {
      const same = destinationIds.value.filter((id) => entries.get(id)?.dest.peek().platform === platform).length;
      setName(`${current.name}${same > 0 ? ` ${same + 1}` : ''}`);
    }
    let stale = false;
    setPresets(null);
    void presetsFor(platform).then(
      (ps) => {
        if (stale) return;
        setPresets(ps);
        if (!editing || editing.platform !== platform) setPreset((ps.find((p) => p.platform === platform && p.isDefault) ?? ps[0])?.presetId ?? '');
      },
      () => !stale && setPresets([]),
    );
    return () => {
      stale = true;
    };
  }, [platform, current]);

  const { byField, rest } = errorsOf(problem);

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      let d: Destination;
      if (editing) {
        const body: Record<string, string> = {};
        if (name !== editing.name) body.name = name;
        if (rtmpUrl !== editing.rtmpUrl) body.rtmpUrl = rtmpUrl;
        if (streamKey !== '') body.streamKey = streamKey;
        if (preset !== editing.preset) body.preset = preset;
        if (Object.keys(body).length === 0) return onDone();
        d = await api.put<Destination>(`/api/destinations/${editing.destinationId}`, body);
      } else {
        d = await api.post<Destination>('/api/destinations', { name, platform, ...(rtmpUrl.trim() ? { rtmpUrl: rtmpUrl.trim() } : {}), streamKey, ...(preset ? { preset } : {}) }, { 'idempotency-key': key });
      }
      upsert(d);
      setStreamKey('');
      onDone();
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
  };

  const id = (f: string): string => `${prefix}-${f}`;
  return (
    <form class="card dest-form" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={id('title')}>
      <h2 id={id('title')}>{editing ? `Edit “${editing.name}”` : 'Add destination'}</h2>
      <div class="form-grid">
        <Field id={id('platform')} label="Platform" error={byField.platform}>
          <select id={id('platform')} value={platform} disabled={Boolean(editing) || !list} onChange={(e) => setPlatform((e.target as HTMLSelectElement).value)} {...described(id('platform'), byField.platform)}>
            {!list ? <option value="">Loading…</option> : null}
            {(list ?? []).map((p) => (
              <option key={p.platformId} value={p.platformId}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id={id('rtmpUrl')}
          label="Ingest URL"
          error={byField.rtmpUrl}
          hint={!editing && !current?.rtmpUrl && !current?.rtmpsUrl ? 'Paste the URL the platform gives you (rtmp:// or rtmps://).' : 'Pre-filled with the platform’s ingest (RTMPS where it offers it).'}
        >
          <input
            id={id('rtmpUrl')}
            type="url"
            inputMode="url"
            autocomplete="off"
            spellcheck={false}
            value={rtmpUrl}
            onInput={(e) => {
              urlTouched.current = true;
              setRtmpUrl((e.target as HTMLInputElement).value);
            }}
            {...described(id('rtmpUrl'), byField.rtmpUrl, true)}
          />
        </Field>
        <Field
          id={id('streamKey')}
          label={editing ? 'New stream key (leave empty to keep it)' : 'Stream key'}
          error={byField.streamKey}
          hint={editing ? `Current key ends in ${editing.streamKeyLast4 ?? '••••'}.` : 'Sent once, stored encrypted, never shown again.'}
        >
          <input
            id={id('streamKey')}
            type="password"
            autocomplete="new-password"
            spellcheck={false}
            value={streamKey}
            onInput={(e) => setStreamKey((e.target as HTMLInputElement).value)}
            {...described(id('streamKey'), byField.streamKey, true)}
          />
        </Field>
        <Field id={id('preset')} label="Preset" error={byField.preset}>
          <select id={id('preset')} value={preset} disabled={!presets} onChange={(e) => setPreset((e.target as HTMLSelectElement).value)} {...described(id('preset'), byField.preset)}>
            {!presets ? <option value={preset}>Loading…</option> : null}
            {(presets ?? []).map((p) => (
              <option key={p.presetId} value={p.presetId}>
                {p.name}
                {p.platform === platform ? '' : p.type === 'passthrough' ? ' (no re-encode)' : ' (generic)'}
              </option>
            ))}
          </select>
        </Field>
        <Field id={id('name')} label="Name" error={byField.name} hint="Tells this one apart from others of the same platform.">
          <input
            id={id('name')}
            type="text"
            autocomplete="off"
            value={name}
            onInput={(e) => {
              nameTouched.current = true;
              setName((e.target as HTMLInputElement).value);
            }}
            {...described(id('name'), byField.name, true)}
          />
        </Field>
      </div>
      <ProblemView problem={rest} />
      <div class="actions">
        <button type="button" class="btn" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save' : 'Add destination'}
        </button>
      </div>
    </form>
  );
}
