/**
 * `fanout login` / `fanout logout`: saves a URL and token as a named profile in the config file
 * (mode 0600) after checking the token against the API, and makes it the current profile. The
 * token is asked without echo, or read from stdin (`--token-stdin`), or taken from FANOUT_TOKEN
 * or --token; it is never printed.
 */
import type { Command } from 'commander';
import { Api, DEFAULT_URL, normaliseUrl } from '../client.ts';
import { PROFILE_NAME, configPath, saveConfigFile } from '../config-file.ts';
import type { Ctx } from '../context.ts';
import { CliError, cliError } from '../errors.ts';
import { canPrompt, promptSecret, promptText, readStdin } from '../prompt.ts';

export function registerLoginCommands(program: Command, ctx: () => Ctx): void {
  program
    .command('login')
    .description('save a URL and token as a profile (the current one from then on)')
    .option('--token-stdin', 'read the token from stdin (at a terminal: asked without echo)')
    .addHelpText(
      'after',
      '\nThe profile is --profile (else FANOUT_PROFILE, else "default"); the file is $XDG_CONFIG_HOME/fanout/config.json (else ~/.config/fanout/config.json), mode 0600.\nExample: fanout login --profile studio --url https://fanout.example.com',
    )
    .action(async (o: { tokenStdin?: boolean }) => {
      const c = ctx();
      const g = c.globals;
      const file = c.file();
      const profile = g.profile ?? c.env.profile ?? 'default';
      if (!PROFILE_NAME.test(profile)) throw cliError('CLI_USAGE', `Not a profile name: ${JSON.stringify(profile)}.`, 'Letters, digits, "-", "_" and ".", up to 64.');
      const existing = file.profiles[profile];
      let url = g.url ?? c.env.url;
      if (!url && canPrompt()) url = (await promptText(`Fanout URL [${existing?.url ?? DEFAULT_URL}]: `)) || undefined;
      url = normaliseUrl(url ?? existing?.url ?? DEFAULT_URL);
      let token = g.token ?? (o.tokenStdin ? await readStdin('token') : c.env.token);
      if (!token) {
        if (!canPrompt()) throw cliError('CLI_USAGE', 'No token.', 'Pipe it in with --token-stdin, or set FANOUT_TOKEN, or run it at a terminal to be asked.');
        token = await promptSecret('Token (not shown): ');
      }
      if (!token) throw cliError('CLI_USAGE', 'The token is empty.', '');
      c.io.secret(token);
      const api = new Api({ url, token, tokenSource: '--token', profile, profileRecord: existing }, c.io);
      // Any valid token may read the flow's status; only an admin's may list tokens.
      await api.request('GET', '/api/mediaconnect/flow/status');
      let role: 'admin' | 'operator' = 'admin';
      try {
        await api.request('GET', '/api/admin/tokens');
      } catch (err) {
        if (err instanceof CliError && err.problem.status === 403) role = 'operator';
        else throw err;
      }
      file.profiles[profile] = { url, token, role };
      file.current = profile;
      const path = saveConfigFile(c.env.configDir, file);
      if (c.io.json) c.io.printJson({ profile, url, role, path });
      else c.io.out(`Logged in to ${url} as ${role}; profile "${profile}" saved in ${path} (mode 600) and now current.`);
    });

  program
    .command('logout')
    .description('remove a profile (its token) from the config file')
    .action(async () => {
      const c = ctx();
      const file = c.file();
      const profile = c.globals.profile ?? c.env.profile ?? file.current ?? 'default';
      if (!file.profiles[profile]) throw cliError('CLI_NOT_FOUND', `No profile "${profile}" in ${configPath(c.env.configDir)}.`, `Profiles: ${Object.keys(file.profiles).join(', ') || 'none'}.`);
      delete file.profiles[profile];
      if (file.current === profile) delete file.current;
      const path = saveConfigFile(c.env.configDir, file);
      if (c.io.json) c.io.printJson({ profile, removed: true, path });
      else c.io.out(`profile "${profile}" removed from ${path}`);
    });
}
