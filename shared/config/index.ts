/**
 * Loads the configuration once from the environment. Invalid configuration throws a
 * `ConfigError` that lists every problem, so `npm start` can refuse to start with one clear report.
 */
import { settings, type Config, type ConfigKey } from './schema.ts';

export type { Config, ConfigKey } from './schema.ts';
export { settings } from './schema.ts';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment map (default `process.env`) against the schema. Overrides win over the environment. */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(settings) as [ConfigKey, (typeof settings)[ConfigKey]][]) {
    if (key in overrides) {
      out[key] = overrides[key];
      continue;
    }
    const raw = env[spec.env];
    const parsed = spec.schema.safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
    } else {
      // Never echo a secret's value; other values are echoed to make the mistake obvious.
      const shown = 'secret' in spec && spec.secret ? '(hidden)' : JSON.stringify(raw);
      for (const issue of parsed.error.issues) problems.push(`${spec.env}=${shown}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Defaults that depend on other settings, once every setting is known.
  for (const [key, spec] of Object.entries(settings) as [ConfigKey, (typeof settings)[ConfigKey]][]) {
    if (out[key] === undefined && !(key in overrides) && 'derive' in spec && spec.derive) out[key] = spec.derive(out);
  }
  return Object.freeze(out) as Config;
}

let current: Config | undefined;

/** The process-wide configuration, loaded on first use. */
export function config(): Config {
  current ??= loadConfig();
  return current;
}

/** Replaces the process-wide configuration (the local runtime and tests call this). */
export function setConfig(next: Config): void {
  current = next;
}
