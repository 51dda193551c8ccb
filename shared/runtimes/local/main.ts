/**
 * `npm start`: runs Fanout locally. Refuses to start on invalid configuration, listing every
 * problem (or on a data dir that belongs to another user); prints a generated admin token once;
 * shuts down cleanly on SIGINT/SIGTERM.
 */
import { ConfigError } from '../../config/index.ts';
import { DataDirError } from './data-dir.ts';
import { startLocalRuntime } from './runtime.ts';

async function main(): Promise<void> {
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>>;
  try {
    runtime = await startLocalRuntime();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nFanout did not start. See README.md#configuration.\n`);
      process.exit(78); // EX_CONFIG
    }
    if (err instanceof DataDirError) {
      process.stderr.write(`${err.message}\nFanout did not start.\n`);
      process.exit(78); // EX_CONFIG: a restart would not help
    }
    throw err;
  }
  const out = process.stdout;
  out.write(`\nFanout is running at ${runtime.url}\n`);
  out.write(`  API:         ${runtime.url}/api  (OpenAPI: ${runtime.url}/api/openapi.json)\n`);
  out.write(`  Primary HLS: ${runtime.url}/hls/primary/index.m3u8\n`);
  out.write(
    `  SRT input:   listening on ${runtime.config.srtHost}:${runtime.config.srtPort} (encoders call it; AES-${runtime.config.srtKeyLength * 8}; passphrase ${
      runtime.config.srtPassphrase ? 'from FANOUT_SRT_PASSPHRASE' : `in ${runtime.config.dataDir}/secrets/srt-passphrase`
    })\n`,
  );
  out.write(`  Data:        ${runtime.config.dataDir}\n`);
  if (runtime.generatedAdminToken) {
    out.write(`\n  Admin token (shown only this once; store it now, it is kept only as a hash):\n\n    ${runtime.generatedAdminToken.reveal()}\n\n`);
  } else if (runtime.config.adminToken) {
    out.write('  Admin token: from FANOUT_ADMIN_TOKEN\n');
  } else {
    out.write('  Admin token: created at first start (set FANOUT_ADMIN_TOKEN to choose one)\n');
  }
  out.write('\nPress Ctrl+C to stop.\n');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out.write(`\n${signal}: stopping Fanout...\n`);
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Fanout failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
