/**
 * `fanout`: the command line client of the Fanout API (services/cli; README "The fanout CLI").
 * A thin client: everything it does goes through the public HTTP API, like the dashboards; it
 * imports nothing of the services. Commands are built with commander; this module wires them,
 * turns every failure into one problem document on stderr and one of the documented exit codes
 * (exit-codes.ts), and keeps the token out of everything it writes.
 */
import { Command, CommanderError, Option } from 'commander';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerCostCommands } from './commands/cost.ts';
import { registerDestinationCommands } from './commands/destinations.ts';
import { registerEventsCommand } from './commands/events.ts';
import { registerInputCommands } from './commands/input.ts';
import { registerLoginCommands } from './commands/login.ts';
import { registerNotifyCommands } from './commands/notify.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTestSourceCommand } from './commands/test-source.ts';
import { registerTokenCommands } from './commands/tokens.ts';
import { Ctx, type GlobalOptions } from './context.ts';
import { readEnv } from './env.ts';
import { CliError, cliError } from './errors.ts';
import { EXIT } from './exit-codes.ts';
import { Io } from './output.ts';
import { VERSION } from './version.ts';

const EXIT_HELP = `
Connection: --url/--token, else FANOUT_URL/FANOUT_TOKEN, else the profile \`fanout login\` saved
(--profile or FANOUT_PROFILE picks one). --token is visible to other users in \`ps\`: prefer
FANOUT_TOKEN or \`fanout login\`.

Output: tables on a terminal; --json for scripts (errors then as a problem document on stderr).
No colour when not a terminal, with NO_COLOR or --color never.

Exit codes: 0 ok, 1 error (API failure, unreachable, --wait ended in error or timed out),
2 usage (bad command line, or a value the API rejected as invalid), 3 not found,
4 authentication (no token, 401, 403), 130 interrupted.`;

/** Builds the program; `ctx()` is the run's context, made from the global options on first use. */
export function buildProgram(): { program: Command; ctx: () => Ctx } {
  const program = new Command('fanout');
  let context: Ctx | undefined;
  const ctx = (): Ctx => {
    if (!context) {
      context = new Ctx(program.opts<GlobalOptions>());
      if (context.globals.token) context.io.warn('--token is visible to other users of this machine (`ps`); prefer FANOUT_TOKEN or `fanout login`.');
    }
    return context;
  };
  program
    .description('Command line client of the Fanout API: one live feed in, every platform out.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--url <url>', 'API base URL (default: FANOUT_URL, the profile, http://127.0.0.1:8080)')
    .option('--token <token>', 'bearer token (default: FANOUT_TOKEN, the profile); visible in `ps`: avoid')
    .option('--profile <name>', 'profile of the config file (default: FANOUT_PROFILE, the current one)')
    .option('--json', 'JSON on stdout for scripts; errors as problem+json on stderr')
    .addOption(new Option('--color <when>', 'colour').choices(['auto', 'always', 'never']).default('auto'))
    .option('--no-color', 'no colour (as --color never)')
    .option('-v, --verbose', 'each request on stderr (never the token)')
    .helpCommand('help [command]', 'help for a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', EXIT_HELP);

  registerStatusCommand(program, ctx);
  registerInputCommands(program, ctx);
  registerDestinationCommands(program, ctx);
  registerCatalogCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerCostCommands(program, ctx);
  registerNotifyCommands(program, ctx);
  registerEventsCommand(program, ctx);
  registerTestSourceCommand(program, ctx);
  registerLoginCommands(program, ctx);
  return { program, ctx };
}

/** Runs the CLI with `argv` (user arguments only); resolves with the exit code. */
export async function run(argv: string[]): Promise<number> {
  const { program, ctx } = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    // Usage errors can come before the context exists (a bad option): make one from argv alone.
    const io = safeIo(ctx, argv);
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.OK;
      if (err.code === 'commander.help') return EXIT.USAGE;
      const detail = err.message.replace(/^error:\s*/i, '');
      io.problem(cliError('CLI_USAGE', detail, 'See `fanout --help` or `fanout <command> --help`.').problem);
      return EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.problem(err.problem);
      return err.exitCode;
    }
    const e = err as Error;
    io.problem(cliError('CLI_FAILED', `Unexpected failure: ${e?.message ?? String(err)}`, 'Run again with --verbose; report it if it persists.').problem);
    if (io.verbose && e?.stack) io.err(e.stack);
    return EXIT.ERROR;
  }
}

function safeIo(ctx: () => Ctx, argv: string[]): Io {
  try {
    return ctx().io;
  } catch {
    const env = readEnv();
    const io = new Io({ json: argv.includes('--json'), color: argv.includes('--no-color') ? 'never' : 'auto', noColorEnv: env.noColor, forceColorEnv: env.forceColor, verbose: false });
    io.secret(env.token);
    const i = argv.indexOf('--token');
    if (i >= 0) io.secret(argv[i + 1]);
    for (const a of argv) if (a.startsWith('--token=')) io.secret(a.slice(8));
    return io;
  }
}

const code = await run(process.argv.slice(2));
// Exit once stdout and stderr are flushed (an open keep-alive socket must not hold the process).
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
