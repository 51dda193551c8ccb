/**
 * The CLI's config file, `$XDG_CONFIG_HOME/fanout/config.json` (else `~/.config/fanout/config.json`):
 * named profiles, each a URL and a token, and which one is current. It holds tokens, so it is
 * written mode 0600 in a 0700 directory, atomically (a temp file renamed over it), and a file
 * others can read is reported.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliError } from './errors.ts';

export interface Profile {
  url: string;
  token?: string;
  /** The token's role when it was saved (shown by `status`; the API decides, not this). */
  role?: 'admin' | 'operator';
}

export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function configPath(dir: string): string {
  return join(dir, 'config.json');
}

/** Reads the config file (an empty one when it does not exist). */
export function loadConfigFile(dir: string, warn: (s: string) => void = () => {}): ConfigFile {
  const path = configPath(dir);
  if (!existsSync(path)) return { profiles: {} };
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) warn(`${path} can be read by other users (mode ${mode.toString(8)}); it holds tokens: chmod 600 it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw cliError('CLI_USAGE', `${path} is not valid JSON (${(err as Error).message}).`, 'Fix or remove the file, then run `fanout login` again.');
  }
  const file = parsed as Partial<ConfigFile>;
  if (typeof file !== 'object' || file === null || typeof file.profiles !== 'object' || file.profiles === null) throw cliError('CLI_USAGE', `${path} has no "profiles" object.`, 'Fix or remove the file, then run `fanout login` again.');
  return { ...(typeof file.current === 'string' ? { current: file.current } : {}), profiles: file.profiles as Record<string, Profile> };
}

/** Writes the config file: mode 0600 in a 0700 directory, atomically. */
export function saveConfigFile(dir: string, file: ConfigFile): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = configPath(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  // The umask cannot widen 0600, but a file created earlier by hand might be wider: set it.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}
