/**
 * What every command gets: the output (Io), the environment, the config file and an API client
 * for the connection the flags, the environment and the profile name. Built once per run from
 * the global options.
 */
import { Api, resolveConnection } from './client.ts';
import { loadConfigFile, type ConfigFile } from './config-file.ts';
import { readEnv, type CliEnv } from './env.ts';
import { Io, type ColorMode } from './output.ts';

export interface GlobalOptions {
  url?: string;
  token?: string;
  profile?: string;
  json?: boolean;
  color?: ColorMode | false;
  verbose?: boolean;
}

export class Ctx {
  readonly io: Io;
  readonly env: CliEnv;
  #file: ConfigFile | undefined;
  #api: Api | undefined;

  constructor(
    readonly globals: GlobalOptions,
    env: CliEnv = readEnv(),
  ) {
    this.env = env;
    this.io = new Io({
      json: globals.json === true,
      color: globals.color === false ? 'never' : (globals.color ?? 'auto'),
      noColorEnv: env.noColor,
      forceColorEnv: env.forceColor,
      verbose: globals.verbose === true,
    });
    this.io.secret(globals.token);
    this.io.secret(env.token);
  }

  /** The config file (read on first use). */
  file(): ConfigFile {
    this.#file ??= loadConfigFile(this.env.configDir, (s) => this.io.warn(s));
    for (const p of Object.values(this.#file.profiles)) this.io.secret(p.token);
    return this.#file;
  }

  /** The API client for this run's connection. */
  api(): Api {
    if (!this.#api) {
      // With a URL and a token from flags or the environment the file is not needed (a broken one does not matter).
      const complete = (this.globals.url ?? this.env.url) !== undefined && (this.globals.token ?? this.env.token) !== undefined;
      const file = complete ? { profiles: {} } : this.file();
      const conn = resolveConnection({ url: this.globals.url, token: this.globals.token, profile: this.globals.profile }, this.env, file);
      this.io.debug(`${conn.url}, token from ${conn.tokenSource ?? 'nowhere'}, profile ${conn.profile}`);
      this.#api = new Api(conn, this.io);
    }
    return this.#api;
  }
}
