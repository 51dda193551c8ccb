/**
 * The destination service's use cases. The HTTP API calls the commands (create, update, start,
 * stop, delete); the inbox consumer calls `observe*` with what the other services report. Both go
 * through the lifecycle table in domain/lifecycle.ts, and every change is written together with
 * the events it produces (the embedded outbox).
 */
import { createHash, randomUUID } from 'node:crypto';
import { DestinationCreatedV1, DestinationDeleteRequestedV1, DestinationDeletedV1, DestinationStartRequestedV1, DestinationStatusChangedV1, DestinationStopRequestedV1, DestinationUpdatedV1 } from '../../../../events/catalogue.ts';
import type { ChannelState } from '../../../../events/channel-provisioner/common.ts';
import type { LastError } from '../../../../events/envelope.ts';
import { AppError } from '../../../../shared/errors/index.ts';
import { buildEntry, type BusEntry } from '../../../../shared/events/publisher.ts';
import type { Logger } from '../../../../shared/logging/logger.ts';
import type { EgressPolicy, EgressRefusal, HostResolver } from '../../../../shared/net/egress.ts';
import type { SecretCipher } from '../../../../shared/secrets/cipher.ts';
import { Secret } from '../../../../shared/secrets/secret.ts';
import type { DestinationRecord } from '../domain/destination.ts';
import { checkStreamKey, parseIngestUrl } from '../domain/ingest-url.ts';
import { applyCommand, isLegalObservedMove, type Command, type DestinationStatus } from '../domain/lifecycle.ts';
import { defaultIngestUrl, type Platform } from '../domain/platforms.ts';
import { assertWithinLimits, type Preset } from '../domain/presets.ts';
import type { CatalogRepository } from '../store/catalog-repository.ts';
import type { DestinationRepository } from '../store/destination-repository.ts';
import type { SystemStore } from '../store/system-store.ts';

export interface CreateDestinationInput {
  name: string;
  platform: string;
  rtmpUrl?: string | undefined;
  streamKey: string;
  preset?: string | undefined;
}

export interface UpdateDestinationInput {
  name?: string | undefined;
  rtmpUrl?: string | undefined;
  streamKey?: string | undefined;
  preset?: string | undefined;
  version?: number | undefined;
}

export interface RequestContext {
  correlationId: string;
  principalId: string;
}

export interface DestinationServiceDeps {
  destinations: DestinationRepository;
  presets: CatalogRepository<Preset>;
  platforms: CatalogRepository<Platform>;
  system: SystemStore;
  cipher: SecretCipher;
  logger: Logger;
  /**
   * Where destinations may point (shared/net/egress.ts) and the resolver names are checked with.
   * Absent: no egress check (unit tests of other rules).
   */
  egress?: { policy: EgressPolicy; resolve: HostResolver };
  now?: () => Date;
}

const SLATE_TIMEOUT_MESSAGE = 'The slate timed out: neither the main nor the backup input delivered media';

/** The `lastError` of a destination stopped because the slate's time ran out (INPUT_STALLED, as the local engine says a lost input). */
export function slateTimeoutError(at: string): LastError {
  return {
    code: 'INPUT_STALLED',
    message: `${SLATE_TIMEOUT_MESSAGE} for the slate's whole time, so the destination was stopped at ${at}.`,
    hint: 'Check the contribution encoders (main and backup), then start the destination again: it does not restart by itself when an input returns. The slate time is in PUT /api/mediaconnect/inputs/failover (slateTimeoutMs).',
  };
}

export function isSlateTimeoutError(e: LastError | null | undefined): boolean {
  return e?.code === 'INPUT_STALLED' && e.message.startsWith(SLATE_TIMEOUT_MESSAGE);
}

/** How many times an internal read-modify-write that lost an optimistic-concurrency race is tried. */
const MAX_RACE_RETRIES = 8;

export class DestinationService {
  private readonly now: () => Date;
  constructor(private readonly d: DestinationServiceDeps) {
    this.now = d.now ?? (() => new Date());
  }

  // ---- commands -------------------------------------------------------------------------

  async create(input: CreateDestinationInput, ctx: RequestContext, idempotencyKey?: string): Promise<{ record: DestinationRecord; replayed: boolean }> {
    const platform = await this.d.platforms.get(input.platform);
    if (!platform) throw new AppError('UNKNOWN_PLATFORM', `There is no platform "${input.platform}".`, { platform: input.platform });
    const preset = await this.resolvePreset(platform, input.preset);
    const givenUrl = input.rtmpUrl ?? defaultIngestUrl(platform);
    if (!givenUrl) throw new AppError('RTMP_URL_REQUIRED', `${platform.name} has no default ingest URL; send rtmpUrl.`, { platform: platform.platformId });
    // Everything the engine would refuse at start is refused here, before anything is claimed or written.
    const rtmpUrl = await this.checkTarget(givenUrl, input.rtmpUrl === undefined ? `${platform.name}'s default ingest URL` : 'rtmpUrl');
    assertStreamKey(input.streamKey, platform);

    let destinationId: string = randomUUID();
    const keyPk = idempotencyKey ? `idem#${ctx.principalId}#${idempotencyKey}` : undefined;
    if (idempotencyKey && keyPk) {
      // The key is claimed before the destination is written, with the id it will get; a retry
      // after a crash in between finishes creating the same destination instead of a second one.
      const requestHash = createHash('sha256')
        .update(JSON.stringify([input.name, input.platform, input.rtmpUrl, input.streamKey, input.preset]))
        .digest('hex');
      const existing = await this.d.system.claimIdempotencyKey({
        pk: keyPk,
        requestHash,
        destinationId,
        createdAt: this.now().toISOString(),
        expiration: Math.floor(this.now().getTime() / 1000) + 24 * 3600,
      });
      if (existing) {
        if (existing.requestHash !== requestHash) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request.');
        const already = await this.d.destinations.get(existing.destinationId);
        if (already) return { record: already, replayed: true };
        if (existing.completed) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'The destination created with this Idempotency-Key has since been deleted; use a new key to add another.');
        destinationId = existing.destinationId;
      }
    }

    const at = this.now().toISOString();
    const key = new Secret(input.streamKey);
    const record: DestinationRecord = {
      destinationId,
      name: input.name,
      platform: platform.platformId,
      rtmpUrl,
      streamKeyCiphertext: await this.d.cipher.encrypt(key, destinationId),
      streamKeyLast4: key.last4(),
      preset: preset.presetId,
      status: 'creating',
      desired: 'stopped',
      mediaLiveChannelId: null,
      mediaConnectOutputArn: null,
      lastError: null,
      lastObservedAt: null,
      version: 1,
      createdAt: at,
      lastModified: at,
    };
    const event = buildEntry(
      DestinationCreatedV1,
      {
        destinationId,
        aggregateVersion: 1,
        name: record.name,
        platform: record.platform,
        preset: record.preset,
        rtmpUrl: record.rtmpUrl,
        status: record.status,
        desired: record.desired,
      },
      { correlationId: ctx.correlationId },
    );
    const created = await this.d.destinations.create(record, [event]);
    if (keyPk) await this.d.system.completeIdempotencyKey(keyPk);
    if (!created) {
      const existing = await this.d.destinations.require(destinationId);
      return { record: existing, replayed: true };
    }
    this.d.logger.info('destination created', { destinationId, platform: record.platform, preset: record.preset, correlationId: ctx.correlationId });
    return { record, replayed: false };
  }

  /**
   * Changes name, URL, key or preset. With `version`, optimistic concurrency is the client's: a
   * destination at another version is VERSION_CONFLICT. Without it, the service retries its own
   * read-modify-write when a background handler (an engine observation) wrote in between, so the
   * client never sees a conflict it did not ask to be told about.
   */
  async update(destinationId: string, input: UpdateDestinationInput, ctx: RequestContext): Promise<DestinationRecord> {
    // Checked once, before the read-modify-write (a DNS lookup is not repeated by the retries).
    const rtmpUrl = input.rtmpUrl !== undefined ? await this.checkTarget(input.rtmpUrl, 'rtmpUrl') : undefined;
    if (input.streamKey !== undefined) assertStreamKey(input.streamKey, { platformId: '', name: '' });
    const attempt = () => this.applyUpdate(destinationId, input, rtmpUrl, ctx);
    return input.version === undefined ? this.withRetry(attempt) : attempt();
  }

  private async applyUpdate(destinationId: string, input: UpdateDestinationInput, rtmpUrl: string | undefined, ctx: RequestContext): Promise<DestinationRecord> {
    const current = await this.d.destinations.require(destinationId);
    if (input.version !== undefined && input.version !== current.version) throw new AppError('VERSION_CONFLICT', `The destination is at version ${current.version}, not ${input.version}.`, { currentVersion: current.version });
    applyCommand('update', current.status, current.desired);
    if (input.streamKey !== undefined) assertStreamKey(input.streamKey, { platformId: current.platform, name: (await this.d.platforms.get(current.platform))?.name ?? current.platform });

    const next: DestinationRecord = { ...current };
    const changed: ('name' | 'rtmpUrl' | 'streamKey' | 'preset')[] = [];
    if (input.name !== undefined && input.name !== current.name) {
      next.name = input.name;
      changed.push('name');
    }
    if (rtmpUrl !== undefined && rtmpUrl !== current.rtmpUrl) {
      next.rtmpUrl = rtmpUrl;
      changed.push('rtmpUrl');
    }
    if (input.streamKey !== undefined) {
      const old = await this.d.cipher.decrypt(current.streamKeyCiphertext, destinationId);
      const key = new Secret(input.streamKey);
      if (!old.equals(key)) {
        next.streamKeyCiphertext = await this.d.cipher.encrypt(key, destinationId);
        next.streamKeyLast4 = key.last4();
        changed.push('streamKey');
      }
    }
    if (input.preset !== undefined && input.preset !== current.preset) {
      const platform = await this.d.platforms.require(current.platform);
      next.preset = (await this.resolvePreset(platform, input.preset)).presetId;
      changed.push('preset');
    }
    if (changed.length === 0) return current;
    next.version = current.version + 1;
    next.lastModified = this.now().toISOString();
    const event = buildEntry(DestinationUpdatedV1, { destinationId, aggregateVersion: next.version, changed, status: next.status, desired: next.desired }, { correlationId: ctx.correlationId });
    await this.d.destinations.save(next, [event]);
    this.d.logger.info('destination updated', { destinationId, changed, correlationId: ctx.correlationId });
    return next;
  }

  start(destinationId: string, ctx: RequestContext): Promise<DestinationRecord> {
    return this.command(destinationId, 'start', ctx);
  }

  stop(destinationId: string, ctx: RequestContext): Promise<DestinationRecord> {
    return this.command(destinationId, 'stop', ctx);
  }

  delete(destinationId: string, ctx: RequestContext): Promise<DestinationRecord> {
    return this.command(destinationId, 'delete', ctx);
  }

  private async command(destinationId: string, command: Exclude<Command, 'update'>, ctx: RequestContext): Promise<DestinationRecord> {
    return this.withRetry(async () => {
      const current = await this.d.destinations.require(destinationId);
      const outcome = applyCommand(command, current.status, current.desired);
      if (!outcome.changed && outcome.status === current.status && outcome.desired === current.desired) return current;
      const next: DestinationRecord = {
        ...current,
        desired: outcome.desired,
        status: outcome.status,
        lastError: command === 'start' || command === 'delete' ? null : current.lastError,
        version: current.version + 1,
        lastModified: this.now().toISOString(),
      };
      const meta = { correlationId: ctx.correlationId };
      const base = { destinationId, aggregateVersion: next.version };
      const events: BusEntry[] = [];
      if (command === 'start') events.push(buildEntry(DestinationStartRequestedV1, base, meta));
      if (command === 'stop') events.push(buildEntry(DestinationStopRequestedV1, base, meta));
      if (command === 'delete') events.push(buildEntry(DestinationDeleteRequestedV1, { ...base, mediaLiveChannelId: current.mediaLiveChannelId, mediaConnectOutputArn: current.mediaConnectOutputArn }, meta));
      if (next.status !== current.status) events.push(this.statusEvent(current.status, next, ctx.correlationId));
      await this.d.destinations.save(next, events);
      this.d.logger.info(`destination ${command} requested`, { destinationId, status: next.status, desired: next.desired, correlationId: ctx.correlationId });
      return next;
    });
  }

  /**
   * InputSwitched with reason `slate-timeout` (issue 15, ADR 0024): neither input delivered for the
   * slate's time, so every destination that wants to run is stopped, as an operator's stop would
   * (desired `stopped`, DestinationStopRequested: the channel-provisioner stops its channel), with
   * the reason in `lastError` (INPUT_STALLED, "the slate timed out"), kept through the stop. The
   * wanted state is what changed: an input that returns later restarts nothing; a start does (and
   * clears the error). Idempotent: a destination already stopped is left as it is.
   */
  async stopForSlateTimeout(e: { switchedAt: string; slateStopsAt: string | null }, correlationId: string): Promise<string[]> {
    const stopped: string[] = [];
    for (const d of await this.d.destinations.list()) {
      if (d.desired !== 'running' || d.status === 'deleting') continue;
      const done = await this.withRetry(async () => {
        const current = await this.d.destinations.get(d.destinationId);
        if (!current || current.desired !== 'running' || current.status === 'deleting') return false;
        const outcome = applyCommand('stop', current.status, current.desired);
        const next: DestinationRecord = { ...current, desired: outcome.desired, status: outcome.status, lastError: slateTimeoutError(e.switchedAt), version: current.version + 1, lastModified: this.now().toISOString() };
        const events: BusEntry[] = [buildEntry(DestinationStopRequestedV1, { destinationId: current.destinationId, aggregateVersion: next.version }, { correlationId })];
        events.push(this.statusEvent(current.status, next, correlationId));
        await this.d.destinations.save(next, events);
        return true;
      });
      if (done) stopped.push(d.destinationId);
    }
    if (stopped.length > 0) this.d.logger.warn('slate timed out: destinations stopped', { stopped: stopped.length, switchedAt: e.switchedAt, correlationId });
    return stopped;
  }

  // ---- observations from the other services ----------------------------------------------

  /** The engine reported the channel's state (native MediaLive state, via channel-provisioner). */
  async observeChannelState(e: { destinationId: string; channelId: string; state: ChannelState; error: LastError | null; observedAt: string }, correlationId: string): Promise<void> {
    await this.observe(e.destinationId, correlationId, (current) => {
      if (current.lastObservedAt && e.observedAt < current.lastObservedAt) return null; // stale, reordered event
      // A reclaimed channel being re-created for a start (ADR 0008): CREATING and IDLE are steps of
      // the start, not a fall back to idle; the destination stays `starting` until RUNNING.
      const recreating = current.channelReclaimed === true && current.desired === 'running' && (e.state === 'CREATING' || e.state === 'IDLE') && current.status === 'starting';
      if (recreating) return { mediaLiveChannelId: e.channelId, lastObservedAt: e.observedAt };
      const to = statusForChannelState(e.state, current.status, e.error);
      // The engine's typed error when it gave one; a failure state without one still says what happened.
      // A stop for the slate's timeout keeps saying why through STOPPING and IDLE (until a start clears it).
      const stoppedBySlate = current.desired === 'stopped' && isSlateTimeoutError(current.lastError) && (e.state === 'STOPPING' || e.state === 'IDLE');
      const lastError =
        e.error ??
        (to === 'error'
          ? { code: `CHANNEL_${e.state}`, message: `The channel reported ${e.state}.`, hint: 'Fanout retries on its next reconcile; check the engine logs if it persists.' }
          : stoppedBySlate
            ? current.lastError
            : to
              ? null
              : current.lastError);
      return {
        status: to ?? current.status,
        mediaLiveChannelId: e.state === 'DELETED' ? null : e.channelId,
        lastError,
        lastObservedAt: e.observedAt,
        ...(current.channelReclaimed && e.state !== 'DELETED' && e.state !== 'DELETING' ? { channelReclaimed: false } : {}),
      };
    });
  }

  /**
   * ChannelReclaimed: the channel (and, next, its output) was deleted after its idle time. The
   * destination stays as it is (idle, stopped) and says so; the next start re-creates both. The
   * output ARN is cleared only while the destination is still stopped: once a start is under way,
   * flow-output keeps or re-adds the output and reports it again.
   */
  async observeChannelReclaimed(e: { destinationId: string; channelId: string }, correlationId: string): Promise<void> {
    await this.observe(e.destinationId, correlationId, (current) => {
      if (current.status === 'deleting') return null;
      if (current.mediaLiveChannelId && current.mediaLiveChannelId !== e.channelId) return null; // a newer channel exists already
      return { channelReclaimed: true, mediaLiveChannelId: null, ...(current.desired === 'stopped' ? { mediaConnectOutputArn: null } : {}) };
    });
  }

  async observeOutputAdded(e: { destinationId: string; outputArn: string }, correlationId: string): Promise<void> {
    await this.observe(e.destinationId, correlationId, () => ({ mediaConnectOutputArn: e.outputArn }));
  }

  async observeFailure(e: { destinationId: string; error: LastError }, correlationId: string): Promise<void> {
    await this.observe(e.destinationId, correlationId, () => ({ status: 'error', lastError: e.error }));
  }

  /** Last step of the teardown saga: the output is gone, so the destination is too. */
  async observeOutputRemoved(e: { destinationId: string }, correlationId: string): Promise<void> {
    await this.withRetry(async () => {
      const current = await this.d.destinations.get(e.destinationId);
      if (!current || current.status !== 'deleting') return; // duplicate, or not being deleted
      const next: DestinationRecord = { ...current, mediaConnectOutputArn: null, mediaLiveChannelId: null, version: current.version + 1, lastModified: this.now().toISOString() };
      const deleted = buildEntry(DestinationDeletedV1, { destinationId: e.destinationId, aggregateVersion: next.version }, { correlationId });
      await this.d.destinations.save(next, [deleted], { tombstone: true });
      this.d.logger.info('destination deleted', { destinationId: e.destinationId, correlationId });
    });
  }

  private async observe(destinationId: string, correlationId: string, change: (current: DestinationRecord) => Partial<DestinationRecord> | null): Promise<void> {
    await this.withRetry(async () => {
      const current = await this.d.destinations.get(destinationId);
      if (!current) return; // already deleted: nothing to update
      const patch = change(current);
      if (!patch) return;
      const to = patch.status ?? current.status;
      if (!isLegalObservedMove(current.status, to)) {
        this.d.logger.warn('dropping an observation the lifecycle does not allow', { destinationId, from: current.status, to });
        return;
      }
      const next: DestinationRecord = { ...current, ...patch };
      const same = (Object.keys(patch) as (keyof DestinationRecord)[]).every((k) => JSON.stringify(next[k]) === JSON.stringify(current[k]));
      if (same) return; // a duplicate or no-op observation changes nothing
      next.version = current.version + 1;
      next.lastModified = this.now().toISOString();
      const events = next.status !== current.status ? [this.statusEvent(current.status, next, correlationId)] : [];
      await this.d.destinations.save(next, events);
    });
  }

  private statusEvent(from: DestinationStatus, next: DestinationRecord, correlationId: string): BusEntry {
    return buildEntry(DestinationStatusChangedV1, { destinationId: next.destinationId, aggregateVersion: next.version, from, to: next.status, desired: next.desired, lastError: next.lastError }, { correlationId });
  }

  /**
   * The ingest URL in its stored form, or the 422 that says why it cannot be used: its shape
   * (domain/ingest-url.ts), then where it points (the egress policy, on every address the host
   * resolves to now; the local engine checks again when it connects).
   */
  private async checkTarget(raw: string, field: string): Promise<string> {
    const parsed = parseIngestUrl(raw);
    const path = field.includes(' ') ? 'rtmpUrl' : field;
    if (!parsed.ok) {
      const code = parsed.reason === 'credentials' ? 'INGEST_URL_CREDENTIALS' : 'INGEST_URL_INVALID';
      throw new AppError(code, `${field}: the URL ${parsed.message}.`, { reason: parsed.reason, errors: [{ path, message: parsed.message }] });
    }
    const egress = this.d.egress;
    if (!egress) return parsed.value.url;
    let refusal: EgressRefusal | null;
    try {
      refusal = await egress.policy.check(parsed.value.host, egress.resolve);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME')
        throw new AppError('INGEST_HOST_NOT_FOUND', `${field}: ${parsed.value.host} does not resolve (DNS has no address for it).`, {
          host: parsed.value.host,
          errors: [{ path, message: `${parsed.value.host} does not resolve` }],
        });
      this.d.logger.warn('DNS lookup of an ingest host failed', { host: parsed.value.host, code: code ?? String(err) });
      throw new AppError('DNS_UNAVAILABLE', `${field}: DNS did not answer for ${parsed.value.host}; retry shortly.`, { host: parsed.value.host });
    }
    if (refusal)
      throw new AppError('EGRESS_REFUSED', `${field}: ${refusal.message}`, {
        host: refusal.host,
        address: refusal.address,
        reason: refusal.reason,
        setting: refusal.setting,
        errors: [{ path, message: refusal.message }],
      });
    return parsed.value.url;
  }

  private async resolvePreset(platform: Platform, presetId: string | undefined): Promise<Preset> {
    let preset: Preset | undefined;
    if (presetId) {
      preset = await this.d.presets.get(presetId);
      if (!preset) throw new AppError('UNKNOWN_PRESET', `There is no preset "${presetId}".`, { preset: presetId });
    } else {
      const all = await this.d.presets.list();
      preset = all.find((p) => p.platform === platform.platformId && p.isDefault) ?? all.find((p) => p.platform === 'generic' && p.isDefault) ?? all.find((p) => p.presetId === 'passthrough');
      if (!preset) throw new AppError('UNKNOWN_PRESET', 'No default preset exists; name one with `preset`.');
    }
    if (preset.platform !== 'generic' && preset.platform !== platform.platformId)
      throw new AppError('PRESET_PLATFORM_MISMATCH', `Preset "${preset.presetId}" is made for ${preset.platform}, not ${platform.platformId}.`, {
        preset: preset.presetId,
        platform: platform.platformId,
      });
    assertWithinLimits(preset, platform);
    return preset;
  }

  /** Runs a read-modify-write again when it lost a race (VERSION_CONFLICT), after a short random pause that grows. */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'VERSION_CONFLICT' || attempt >= MAX_RACE_RETRIES) throw err;
        // Spread the racers apart: two writers retrying in lock-step would collide again.
        await new Promise((r) => setTimeout(r, Math.random() * 4 * attempt));
      }
    }
  }
}

/** STREAM_KEY_INVALID for a key the platform would not receive whole (control characters) or would refuse (too short). */
function assertStreamKey(key: string, platform: { platformId: string; name: string }): void {
  const r = checkStreamKey(key, platform);
  if (!r.ok) throw new AppError('STREAM_KEY_INVALID', `streamKey: the key ${r.message}.`, { errors: [{ path: 'streamKey', message: r.message }] });
}

/**
 * Maps a MediaLive channel state onto the destination's status, given where it is now.
 * Returns null when the state says nothing new for the destination (e.g. DELETING while deleting).
 */
export function statusForChannelState(state: ChannelState, current: DestinationStatus, error: LastError | null): DestinationStatus | null {
  if (current === 'deleting') return null; // teardown is driven by ChannelDeleted / FlowOutputRemoved
  switch (state) {
    case 'CREATING':
      return current === 'error' ? 'creating' : null;
    case 'IDLE':
      return current === 'creating' || current === 'starting' || current === 'stopping' || current === 'running' || current === 'error' ? 'idle' : null;
    case 'STARTING':
      // Starting but the target refuses it (connection refused, key rejected): say so.
      return error ? 'error' : 'starting';
    case 'RUNNING':
      return error ? 'error' : 'running';
    case 'RECOVERING':
    case 'CREATE_FAILED':
    case 'UPDATE_FAILED':
      return 'error';
    case 'STOPPING':
      return 'stopping';
    case 'UPDATING':
    case 'DELETING':
    case 'DELETED':
      return null;
  }
}
