/**
 * Platforms and presets: two tabs, a filter by platform, create / edit / delete with the API's
 * validation shown next to each field. A preset (or platform) in use cannot be deleted: the API
 * says so (PRESET_IN_USE, with `usedBy`) and the page names the destinations that use it.
 */
import { useEffect, useState } from 'preact/hooks';
import { fieldErrors, problemOf } from '../../api/client.ts';
import type { Platform, Preset, Problem } from '../../api/types.ts';
import { ConfirmDialog, described, Field, ProblemView } from '../../components/common.tsx';
import { loadPlatforms } from '../../state/catalog.ts';
import { entries } from '../../state/live.ts';
import { api } from '../../state/session.ts';

const num = (v: string): number => (v.trim() === '' ? Number.NaN : Number(v));

/** Creates (POST) or updates (PUT `id`) a catalog entry; the API's refusal goes back to the form. */
async function saveEntry(collection: '/api/admin/presets' | '/api/admin/platforms', id: string | null, body: unknown, setProblem: (p: Problem | null) => void, onDone: (saved: boolean) => void): Promise<void> {
  setProblem(null);
  try {
    if (id) await api.put(`${collection}/${id}`, body);
    else await api.post(collection, body);
    onDone(true);
  } catch (err) {
    setProblem(problemOf(err));
  }
}

/** What of a problem belongs to no field of the form. */
function generalError(problem: Problem | null, byField: Record<string, string>): string | undefined {
  return byField[''] ?? (problem && !problem.errors ? problem.detail : undefined);
}

/** The destinations a problem's `usedBy` names (ids for presets; { destinations, presets } for platforms). */
function usedByNames(p: Problem | null): string[] {
  const u = p?.usedBy as string[] | { destinations?: string[]; presets?: string[] } | undefined;
  if (!u) return [];
  const ids = Array.isArray(u) ? u : (u.destinations ?? []);
  const names = ids.map((id) => entries.get(id)?.dest.peek().name ?? id);
  return [...names, ...(!Array.isArray(u) ? (u.presets ?? []).map((x) => `preset ${x}`) : [])];
}

function InUse({ problem }: { problem: Problem | null }) {
  const names = usedByNames(problem);
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <p class="problem-detail">{problem.detail}</p>
      <p class="problem-hint">{problem.hint}</p>
      {names.length > 0 ? (
        <ul data-testid="used-by">
          {names.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Edit and Delete of a catalog row (built-in entries cannot be deleted, only overridden). */
function RowActions(props: { kind: string; name: string; builtIn: boolean; onEdit: () => void; onDelete: () => void }) {
  return (
    <div class="actions">
      <button type="button" class="btn btn-small" onClick={props.onEdit} aria-label={`Edit ${props.kind} ${props.name}`}>
        Edit
      </button>
      <button type="button" class="btn btn-small btn-danger-outline" disabled={props.builtIn} onClick={props.onDelete} aria-label={`Delete ${props.kind} ${props.name}`}>
        Delete
      </button>
    </div>
  );
}

/** A catalog form's general error (what belongs to no field) and its buttons. */
function FormFooter(props: { kind: string; editing: boolean; problem: Problem | null; general: string | undefined; onCancel: () => void }) {
  return (
    <>
      {props.general && props.problem ? <ProblemView problem={{ ...props.problem, detail: props.general }} /> : null}
      <div class="actions">
        <button type="button" class="btn" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class="btn btn-primary">
          {props.editing ? `Save ${props.kind}` : `Create ${props.kind}`}
        </button>
      </div>
    </>
  );
}

// ---- presets -------------------------------------------------------------------------------------

const PRESET_FIELDS = ['presetId', 'name', 'platform', 'description', 'isDefault', 'passthrough', 'video', 'video.resolution', 'video.frameRate', 'video.bitrate', 'video.profile', 'video.keyframeInterval', 'audio', 'audio.bitrate'];

function PresetForm({ editing, platforms, onDone }: { editing: Preset | null; platforms: Platform[]; onDone: (saved: boolean) => void }) {
  const [f, setF] = useState({
    presetId: editing?.presetId ?? '',
    name: editing?.name ?? '',
    platform: editing?.platform ?? 'generic',
    description: editing?.description ?? '',
    isDefault: editing?.isDefault ?? false,
    passthrough: editing?.type === 'passthrough',
    resolution: editing?.video?.resolution ?? '1280x720',
    frameRate: String(editing?.video?.frameRate ?? 30),
    videoKbps: String((editing?.video?.bitrate ?? 3_000_000) / 1000),
    profile: editing?.video?.profile ?? 'high',
    keyframeInterval: String(editing?.video?.keyframeInterval ?? 2),
    audioKbps: String((editing?.audio?.bitrate ?? 128_000) / 1000),
  });
  const [problem, setProblem] = useState<Problem | null>(null);
  const set = (k: keyof typeof f) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setF({ ...f, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const body = {
      ...(editing ? {} : f.presetId ? { presetId: f.presetId } : {}),
      name: f.name,
      platform: f.platform,
      description: f.description,
      isDefault: f.isDefault,
      passthrough: f.passthrough,
      ...(f.passthrough
        ? {}
        : {
            video: { codec: 'h264', resolution: f.resolution, frameRate: num(f.frameRate), bitrate: Math.round(num(f.videoKbps) * 1000), profile: f.profile, keyframeInterval: num(f.keyframeInterval) },
            audio: { codec: 'aac', bitrate: Math.round(num(f.audioKbps) * 1000) },
          }),
    };
    await saveEntry('/api/admin/presets', editing?.presetId ?? null, body, setProblem, onDone);
  };
  const e = fieldErrors(problem, PRESET_FIELDS);
  const general = generalError(problem, e);
  const id = (k: string): string => `preset-${k}`;
  return (
    <form class="card" onSubmit={(ev) => void submit(ev)} noValidate aria-labelledby="preset-form-title">
      <h3 id="preset-form-title">{editing ? `Edit preset “${editing.name}”` : 'New preset'}</h3>
      <div class="form-grid">
        {!editing ? (
          <Field id={id('presetId')} label="Id (optional)" error={e.presetId}>
            <input id={id('presetId')} value={f.presetId} onInput={set('presetId')} {...described(id('presetId'), e.presetId)} />
          </Field>
        ) : null}
        <Field id={id('name')} label="Name" error={e.name}>
          <input id={id('name')} value={f.name} onInput={set('name')} {...described(id('name'), e.name)} />
        </Field>
        <Field id={id('platform')} label="Platform" error={e.platform}>
          <select id={id('platform')} value={f.platform} onChange={set('platform')} {...described(id('platform'), e.platform)}>
            <option value="generic">Generic (any platform)</option>
            {platforms.map((p) => (
              <option key={p.platformId} value={p.platformId}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field id={id('description')} label="Description" error={e.description}>
          <input id={id('description')} value={f.description} onInput={set('description')} {...described(id('description'), e.description)} />
        </Field>
        <div class="field field-check">
          <input id={id('passthrough')} type="checkbox" checked={f.passthrough} onChange={set('passthrough')} />
          <label for={id('passthrough')}>Passthrough (forward the feed without re-encoding)</label>
        </div>
        <div class="field field-check">
          <input id={id('isDefault')} type="checkbox" checked={f.isDefault} onChange={set('isDefault')} />
          <label for={id('isDefault')}>The platform’s default for new destinations</label>
        </div>
        {!f.passthrough ? (
          <>
            <Field id={id('resolution')} label="Resolution (WIDTHxHEIGHT)" error={e['video.resolution']}>
              <input id={id('resolution')} value={f.resolution} onInput={set('resolution')} {...described(id('resolution'), e['video.resolution'])} />
            </Field>
            <Field id={id('frameRate')} label="Frame rate (fps)" error={e['video.frameRate']}>
              <input id={id('frameRate')} inputMode="decimal" value={f.frameRate} onInput={set('frameRate')} {...described(id('frameRate'), e['video.frameRate'])} />
            </Field>
            <Field id={id('videoKbps')} label="Video bitrate (kb/s)" error={e['video.bitrate'] ?? e.video}>
              <input id={id('videoKbps')} inputMode="numeric" value={f.videoKbps} onInput={set('videoKbps')} {...described(id('videoKbps'), e['video.bitrate'] ?? e.video)} />
            </Field>
            <Field id={id('profile')} label="H.264 profile" error={e['video.profile']}>
              <select id={id('profile')} value={f.profile} onChange={set('profile')}>
                <option value="high">high</option>
                <option value="main">main</option>
                <option value="baseline">baseline</option>
              </select>
            </Field>
            <Field id={id('keyframeInterval')} label="Keyframe interval (s)" error={e['video.keyframeInterval']}>
              <input id={id('keyframeInterval')} inputMode="decimal" value={f.keyframeInterval} onInput={set('keyframeInterval')} {...described(id('keyframeInterval'), e['video.keyframeInterval'])} />
            </Field>
            <Field id={id('audioKbps')} label="Audio bitrate (kb/s)" error={e['audio.bitrate'] ?? e.audio}>
              <input id={id('audioKbps')} inputMode="numeric" value={f.audioKbps} onInput={set('audioKbps')} {...described(id('audioKbps'), e['audio.bitrate'] ?? e.audio)} />
            </Field>
          </>
        ) : null}
      </div>
      <FormFooter kind="preset" editing={Boolean(editing)} problem={problem} general={general} onCancel={() => onDone(false)} />
    </form>
  );
}

function PresetsTab({ platforms }: { platforms: Platform[] }) {
  const [presets, setPresets] = useState<Preset[] | null>(null);
  const [filter, setFilter] = useState('');
  const [editing, setEditing] = useState<Preset | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Preset | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const load = async (): Promise<void> => {
    try {
      setPresets((await api.get<{ presets: Preset[] }>('/api/admin/presets')).presets);
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  useEffect(() => void load(), []);
  const del = async (p: Preset): Promise<void> => {
    setDeleting(null);
    setProblem(null);
    try {
      await api.del(`/api/admin/presets/${p.presetId}`);
      await load();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  const shown = (presets ?? []).filter((p) => !filter || p.platform === filter);
  return (
    <div role="tabpanel" id="panel-presets" aria-labelledby="tab-presets">
      <div class="section-head">
        <div class="field field-inline">
          <label for="preset-filter">Platform</label>
          <select id="preset-filter" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            <option value="generic">Generic</option>
            {platforms.map((p) => (
              <option key={p.platformId} value={p.platformId}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="btn btn-primary" onClick={() => setEditing('new')}>
          New preset
        </button>
      </div>
      {editing ? (
        <PresetForm
          editing={editing === 'new' ? null : editing}
          platforms={platforms}
          onDone={(saved) => {
            setEditing(null);
            if (saved) void load();
          }}
        />
      ) : null}
      <InUse problem={problem} />
      {!presets ? (
        <p role="status">Loading…</p>
      ) : shown.length === 0 ? (
        <p class="empty">No preset for this platform.</p>
      ) : (
        <ul class="rows">
          {shown.map((p) => (
            <li key={p.presetId} class="row" data-preset={p.presetId}>
              <div class="row-main">
                <strong>{p.name}</strong>
                <span class="muted">
                  {p.presetId} · {p.platform} ·{' '}
                  {p.type === 'passthrough' ? 'passthrough' : `${p.video?.resolution} ${p.video?.frameRate} fps ${Math.round((p.video?.bitrate ?? 0) / 1000)} kb/s, audio ${Math.round((p.audio?.bitrate ?? 0) / 1000)} kb/s`}
                  {p.isDefault ? ' · default' : ''}
                  {p.builtIn ? ' · built in' : ''}
                </span>
              </div>
              <RowActions kind="preset" name={p.name} builtIn={p.builtIn} onEdit={() => setEditing(p)} onDelete={() => setDeleting(p)} />
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete preset “${deleting?.name ?? ''}”?`} confirmLabel="Delete" danger onCancel={() => setDeleting(null)} onConfirm={() => deleting && void del(deleting)}>
        <p>A preset that destinations use cannot be deleted; the API will say which.</p>
      </ConfirmDialog>
    </div>
  );
}

// ---- platforms -----------------------------------------------------------------------------------

const PLATFORM_FIELDS = ['platformId', 'name', 'rtmpUrl', 'rtmpsUrl', 'limits', 'limits.maxVideoBitrate', 'limits.maxFrameRate', 'limits.maxWidth', 'limits.maxHeight', 'limits.maxKeyframeInterval'];

function PlatformForm({ editing, onDone }: { editing: Platform | null; onDone: (saved: boolean) => void }) {
  const [f, setF] = useState({
    platformId: editing?.platformId ?? '',
    name: editing?.name ?? '',
    rtmpUrl: editing?.rtmpUrl ?? '',
    rtmpsUrl: editing?.rtmpsUrl ?? '',
    maxKbps: String((editing?.limits.maxVideoBitrate ?? 6_000_000) / 1000),
    maxFrameRate: String(editing?.limits.maxFrameRate ?? 60),
    maxWidth: String(editing?.limits.maxWidth ?? 1920),
    maxHeight: String(editing?.limits.maxHeight ?? 1080),
    maxKeyframeInterval: String(editing?.limits.maxKeyframeInterval ?? 4),
  });
  const [problem, setProblem] = useState<Problem | null>(null);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const body = {
      ...(editing ? {} : { platformId: f.platformId }),
      name: f.name,
      rtmpUrl: f.rtmpUrl.trim() || null,
      rtmpsUrl: f.rtmpsUrl.trim() || null,
      limits: { maxVideoBitrate: Math.round(num(f.maxKbps) * 1000), maxFrameRate: num(f.maxFrameRate), maxWidth: num(f.maxWidth), maxHeight: num(f.maxHeight), maxKeyframeInterval: num(f.maxKeyframeInterval) },
    };
    await saveEntry('/api/admin/platforms', editing?.platformId ?? null, body, setProblem, onDone);
  };
  const e = fieldErrors(problem, PLATFORM_FIELDS);
  const general = generalError(problem, e);
  const id = (k: string): string => `platform-${k}`;
  const input = (k: keyof typeof f, label: string, err: string | undefined, mode?: string) => (
    <Field id={id(k)} label={label} error={err}>
      <input id={id(k)} value={f[k]} inputMode={mode as 'numeric' | undefined} onInput={set(k)} {...described(id(k), err)} />
    </Field>
  );
  return (
    <form class="card" onSubmit={(ev) => void submit(ev)} noValidate aria-labelledby="platform-form-title">
      <h3 id="platform-form-title">{editing ? `Edit platform “${editing.name}”` : 'New platform'}</h3>
      <div class="form-grid">
        {!editing ? input('platformId', 'Id (lowercase, e.g. kick)', e.platformId) : null}
        {input('name', 'Name', e.name)}
        {input('rtmpUrl', 'RTMP ingest URL', e.rtmpUrl)}
        {input('rtmpsUrl', 'RTMPS ingest URL', e.rtmpsUrl)}
        {input('maxKbps', 'Max video bitrate (kb/s)', e['limits.maxVideoBitrate'] ?? e.limits, 'numeric')}
        {input('maxFrameRate', 'Max frame rate', e['limits.maxFrameRate'], 'decimal')}
        {input('maxWidth', 'Max width', e['limits.maxWidth'], 'numeric')}
        {input('maxHeight', 'Max height', e['limits.maxHeight'], 'numeric')}
        {input('maxKeyframeInterval', 'Max keyframe interval (s)', e['limits.maxKeyframeInterval'], 'decimal')}
      </div>
      <FormFooter kind="platform" editing={Boolean(editing)} problem={problem} general={general} onCancel={() => onDone(false)} />
    </form>
  );
}

function PlatformsTab({ platforms, reload }: { platforms: Platform[]; reload: () => void }) {
  const [editing, setEditing] = useState<Platform | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Platform | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const del = async (p: Platform): Promise<void> => {
    setDeleting(null);
    setProblem(null);
    try {
      await api.del(`/api/admin/platforms/${p.platformId}`);
      reload();
    } catch (err) {
      setProblem(problemOf(err));
    }
  };
  return (
    <div role="tabpanel" id="panel-platforms" aria-labelledby="tab-platforms">
      <div class="section-head">
        <span />
        <button type="button" class="btn btn-primary" onClick={() => setEditing('new')}>
          New platform
        </button>
      </div>
      {editing ? (
        <PlatformForm
          editing={editing === 'new' ? null : editing}
          onDone={(saved) => {
            setEditing(null);
            if (saved) reload();
          }}
        />
      ) : null}
      <InUse problem={problem} />
      <ul class="rows">
        {platforms.map((p) => (
          <li key={p.platformId} class="row">
            <div class="row-main">
              <strong>{p.name}</strong>
              <span class="muted wrap">
                {p.platformId} · {p.rtmpsUrl ?? p.rtmpUrl ?? 'URL per event'} · up to {p.limits.maxWidth}x{p.limits.maxHeight} {p.limits.maxFrameRate} fps {Math.round(p.limits.maxVideoBitrate / 1000)} kb/s
                {p.builtIn ? ' · built in' : ''}
              </span>
            </div>
            <RowActions kind="platform" name={p.name} builtIn={p.builtIn} onEdit={() => setEditing(p)} onDelete={() => setDeleting(p)} />
          </li>
        ))}
      </ul>
      <ConfirmDialog open={deleting !== null} title={`Delete platform “${deleting?.name ?? ''}”?`} confirmLabel="Delete" danger onCancel={() => setDeleting(null)} onConfirm={() => deleting && void del(deleting)}>
        <p>A platform that destinations or presets use cannot be deleted; the API will say which.</p>
      </ConfirmDialog>
    </div>
  );
}

export function CatalogPage() {
  const [tab, setTab] = useState<'presets' | 'platforms'>('presets');
  const [list, setList] = useState<Platform[] | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const reload = (): void => void loadPlatforms(true).then(setList, (err: unknown) => setProblem(problemOf(err)));
  useEffect(reload, []);
  const tabButton = (t: 'presets' | 'platforms', label: string) => (
    <button type="button" role="tab" id={`tab-${t}`} aria-controls={tab === t ? `panel-${t}` : undefined} aria-selected={tab === t} class={`tab${tab === t ? ' tab-active' : ''}`} onClick={() => setTab(t)}>
      {label}
    </button>
  );
  return (
    <section class="card" aria-labelledby="catalog-title">
      <h2 id="catalog-title">Platforms and presets</h2>
      <div role="tablist" aria-label="Catalog" class="tabs">
        {tabButton('presets', 'Presets')}
        {tabButton('platforms', 'Platforms')}
      </div>
      <ProblemView problem={problem} />
      {!list ? <p role="status">Loading…</p> : tab === 'presets' ? <PresetsTab platforms={list} /> : <PlatformsTab platforms={list} reload={reload} />}
    </section>
  );
}
