/**
 * `npm run test-source`: sends a test pattern (with a 1 kHz tone) to Fanout's SRT listener, with
 * the configured passphrase, as a contribution encoder would. Try Fanout without an encoder.
 * The passphrase goes to the SRT caller (`fanout-srt call`, which runs FFmpeg) on its stdin: no
 * process shows it in its command line or environment.
 *
 *   npm run test-source                      # 1280x720, 30 fps, 3 Mbps, until Ctrl+C
 *   npm run test-source -- --size 1920x1080 --fps 30 --bitrate 6000000 --host 127.0.0.1
 *   npm run test-source -- --backup          # to the backup input (FANOUT_SRT_BACKUP_PORT, its passphrase)
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../../config/index.ts';
import { spawnTestSource, srtPassphrase } from '../../engines/local/index.ts';
import { redact } from '../../secrets/redact.ts';
import { Secret } from '../../secrets/secret.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    size: { type: 'string', default: '1280x720' },
    fps: { type: 'string', default: '30' },
    bitrate: { type: 'string', default: '3000000' },
    duration: { type: 'string' },
    backup: { type: 'boolean', default: false },
  },
});

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(78);
}
const [width, height] = (values.size ?? '1280x720').split('x').map(Number);
const main = srtPassphrase(config, resolve(config.dataDir)).passphrase;
if (values.backup && config.srtBackupPort === 0) {
  process.stderr.write('FANOUT_SRT_BACKUP_PORT is 0: there is no backup input to send to.\n');
  process.exit(78);
}
const port = values.backup ? config.srtBackupPort : config.srtPort;
const passphrase = values.backup && config.srtBackupPassphrase ? new Secret(config.srtBackupPassphrase) : main;
process.stdout.write(`Sending a ${values.size} ${values.fps} fps test pattern with tone to srt://${values.host}:${port}${values.backup ? ' (the backup input)' : ''} (encrypted, key length ${config.srtKeyLength}). Ctrl+C stops.\n`);
let child: ReturnType<typeof spawnTestSource>;
try {
  child = spawnTestSource({
    host: values.host ?? '127.0.0.1',
    port,
    passphrase: passphrase.reveal(),
    keyLength: config.srtKeyLength,
    width: width ?? 1280,
    height: height ?? 720,
    fps: Number(values.fps),
    bitrate: Number(values.bitrate),
    ...(values.duration ? { durationSeconds: Number(values.duration) } : {}),
    // In our process group: Ctrl+C in the terminal reaches the caller and FFmpeg.
    detached: false,
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
child.stdout?.pipe(process.stdout);
child.stderr?.on('data', (d: Buffer) => process.stderr.write(redact(d.toString(), [passphrase.reveal()])));
process.on('SIGINT', () => child.kill('SIGINT'));
child.on('exit', (code) => process.exit(code ?? 0));
