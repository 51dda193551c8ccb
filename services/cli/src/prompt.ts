/**
 * Reading what should not be on the command line (argv is visible to every user in `ps`): a
 * prompt without echo on a terminal, or the whole of stdin. Prompts are written to stderr so
 * stdout stays data.
 */
import { read } from 'read';
import { cliError } from './errors.ts';

/** Whether a person can answer a prompt (stdin and stderr are terminals). */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}

/** Asks for a secret without echoing it. */
export async function promptSecret(label: string): Promise<string> {
  try {
    const value = await read({ prompt: label, silent: true, replace: '', output: process.stderr, terminal: true });
    // Nothing was echoed, not even the Enter: end the prompt's line.
    process.stderr.write('\n');
    return String(value).trim();
  } catch (err) {
    if ((err as Error).message === 'canceled') throw cliError('CLI_INTERRUPTED', 'Interrupted.', '');
    throw err;
  }
}

/** Asks for a value (echoed), with a default. */
export async function promptText(label: string, def?: string): Promise<string> {
  try {
    const value = await read({ prompt: label, output: process.stderr, ...(def ? { default: def } : {}), edit: false });
    return String(value).trim();
  } catch (err) {
    if ((err as Error).message === 'canceled') throw cliError('CLI_INTERRUPTED', 'Interrupted.', '');
    throw err;
  }
}

/** Reads all of stdin (a piped stream key or token); the surrounding whitespace is dropped. */
export async function readStdin(what: string): Promise<string> {
  if (process.stdin.isTTY) {
    // `--stream-key-stdin` typed at a terminal: ask without echo instead of waiting for EOF.
    return promptSecret(`${what}: `);
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const value = Buffer.concat(chunks).toString('utf8').trim();
  if (!value) throw cliError('CLI_USAGE', `Nothing on stdin for the ${what}.`, `Pipe it in, e.g. \`printf %s "$KEY" | fanout ...\`.`);
  return value;
}

/**
 * Asks "yes/no" on a terminal; without one, `--yes` is required (a script must say it means it).
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!canPrompt()) throw cliError('CLI_USAGE', `${question} Not a terminal, so not asked.`, 'Pass --yes to confirm.');
  const answer = await promptText(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer)) throw cliError('CLI_INTERRUPTED', 'Not confirmed; nothing changed.', '');
}
