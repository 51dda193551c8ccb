/**
 * Builds the local media engine from the configuration (the local runtime's default engine).
 * The SRT passphrase comes from FANOUT_SRT_PASSPHRASE or, when unset, from a file generated at
 * first start in the data dir (0600), so an encoder configured once keeps working.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../../config/index.ts';
import { createLogger } from '../../logging/logger.ts';
import { EgressPolicy, type HostResolver } from '../../net/egress.ts';
import { Secret } from '../../secrets/secret.ts';
import type { EngineEventSink } from '../port/ports.ts';

/** The SRT passphrase: configured, or generated once and kept in the data dir. */
export function srtPassphrase(config: Config, dataDir: string): { passphrase: Secret; generated: boolean } {
  if (config.srtPassphrase) return { passphrase: new Secret(config.srtPassphrase), generated: false };
  const file = join(dataDir, 'secrets', 'srt-passphrase');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600, flag: 'wx' });
    return { passphrase: new Secret(readFileSync(file, 'utf8').trim()), generated: true };
  }
  return { passphrase: new Secret(readFileSync(file, 'utf8').trim()), generated: false };
}

export async function createLocalMediaEngine(o: { sink: EngineEventSink; config: Config; dataDir: string; resolveHost?: HostResolver }) {
  const { LocalMediaEngine } = await import('./engine/index.ts');
  const { passphrase } = srtPassphrase(o.config, o.dataDir);
  const log = createLogger('local-media-engine');
  const engine = new LocalMediaEngine({
    dataDir: o.dataDir,
    srtPort: o.config.srtPort,
    srtPassphrase: passphrase,
    srtKeyLength: o.config.srtKeyLength,
    srtBindAddress: o.config.srtHost,
    // The backup input (issue 15): its own port, 0 for none; its own passphrase or the main's.
    srtBackupPort: o.config.srtBackupPort,
    ...(o.config.srtBackupPassphrase ? { srtBackupPassphrase: new Secret(o.config.srtBackupPassphrase) } : {}),
    ...(o.config.slateImage ? { slateImage: o.config.slateImage } : {}),
    sink: o.sink,
    // Its own lines (sources, publishers, SRT callers, the flow hub dropping for a slow FFmpeg) are
    // redacted by the engine, and once more by the logger.
    logger: log,
    x264Preset: o.config.x264Preset,
    // The egress policy of the destination API, again where the publisher connects (DNS rebinding).
    egress: { policy: new EgressPolicy({ allowPrivate: o.config.egressAllowPrivate, allowHosts: o.config.egressAllowHosts }), ...(o.resolveHost ? { resolve: o.resolveHost } : {}) },
  });
  await engine.start();
  return engine;
}
