/**
 * The one place the CLI reads its environment (the server's settings live in
 * shared/config/schema.ts; the CLI is a separate program and reads only what is its own).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What the CLI takes from the environment. */
export interface CliEnv {
  /** FANOUT_URL: the API's base URL. */
  url: string | undefined;
  /** FANOUT_TOKEN: the bearer token (beats the profile, loses to --token). */
  token: string | undefined;
  /** FANOUT_PROFILE: which profile of the config file to use. */
  profile: string | undefined;
  /** NO_COLOR (any non-empty value): no colour, whatever the terminal. */
  noColor: boolean;
  /** FORCE_COLOR (non-empty, not 0): colour even when not a terminal. */
  forceColor: boolean;
  /** Where the config file lives: $XDG_CONFIG_HOME/fanout, else ~/.config/fanout. */
  configDir: string;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/** Reads the CLI's environment (default process.env). */
export function readEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  return {
    url: nonEmpty(env.FANOUT_URL),
    token: nonEmpty(env.FANOUT_TOKEN),
    profile: nonEmpty(env.FANOUT_PROFILE),
    noColor: nonEmpty(env.NO_COLOR) !== undefined,
    forceColor: nonEmpty(env.FORCE_COLOR) !== undefined && env.FORCE_COLOR !== '0',
    configDir: join(xdg ?? join(env.HOME ?? homedir(), '.config'), 'fanout'),
  };
}
