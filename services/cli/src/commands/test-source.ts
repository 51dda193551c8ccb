/**
 * `fanout test-source`: runs the project's test source (`shared/runtimes/local/test-source.ts`, as
 * `npm run test-source` does): a test pattern with a tone sent over encrypted SRT to this
 * machine's Fanout, as an encoder would. It runs as its own process (the CLI imports nothing of
 * Fanout's internals) from the checkout, where it finds the SRT passphrase; the exit code is its.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../context.ts';
import { cliError } from '../errors.ts';
import { repoRoot } from '../repo.ts';

export function registerTestSourceCommand(program: Command, ctx: () => Ctx): void {
  program
    .command('test-source')
    .description("send a test pattern with tone to this machine's Fanout over SRT (like an encoder) until Ctrl+C")
    .option('--host <host>', "Fanout's SRT listener address", '127.0.0.1')
    .option('--size <WxH>', 'picture size', '1280x720')
    .option('--fps <n>', 'frame rate', '30')
    .option('--bitrate <bps>', 'video bitrate in bits per second', '3000000')
    .option('--duration <seconds>', 'stop after this many seconds')
    .addHelpText('after', "\nThe SRT port and passphrase are the local Fanout's (FANOUT_SRT_PORT, FANOUT_SRT_PASSPHRASE or data/secrets/srt-passphrase, FANOUT_DATA_DIR).")
    .action(async (o: { host: string; size: string; fps: string; bitrate: string; duration?: string }) => {
      const c = ctx();
      const root = repoRoot();
      if (!root) throw cliError('CLI_FAILED', 'The test source runs from a Fanout checkout; none found around this CLI.', 'Run it from the repository: `npm run test-source`.');
      const args = ['--import', 'tsx', join(root, 'shared/runtimes/local/test-source.ts'), '--host', o.host, '--size', o.size, '--fps', o.fps, '--bitrate', o.bitrate, ...(o.duration ? ['--duration', o.duration] : [])];
      c.io.debug(`node ${args.join(' ')} (in ${root})`);
      const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
      // Ctrl+C reaches the child through the terminal; the CLI waits for it to finish.
      const ignore = (): void => {};
      process.on('SIGINT', ignore);
      const code = await new Promise<number>((resolve) => {
        child.once('error', (err) => {
          c.io.err(`cannot run the test source: ${err.message}`);
          resolve(1);
        });
        child.once('exit', (status, signal) => resolve(status ?? (signal === 'SIGINT' ? 130 : 1)));
      });
      process.removeListener('SIGINT', ignore);
      process.exitCode = code;
    });
}
