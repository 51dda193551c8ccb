/**
 * The CLI's exit codes, one table (README "The fanout CLI" lists them). 0, 1, 2 and 4 follow gh's
 * convention; 3 lets a script tell "it does not exist" from "it failed" without parsing output
 * (`fanout dest show x || fanout dest add ...`); 130 is the shell's code for Ctrl+C.
 */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Anything else went wrong: the API failed or refused (409, 429, 5xx), Fanout unreachable, `--wait` ended in error or timed out. */
  ERROR: 1,
  /** The command line is wrong: unknown command or option, a missing or bad argument, or a value the API rejected as invalid (400, 422). */
  USAGE: 2,
  /** What was named does not exist (404: destination, preset, platform, token). */
  NOT_FOUND: 3,
  /** Authentication: no token, a token the API refuses (401), or a role that may not do it (403). */
  AUTH: 4,
  /** Interrupted (Ctrl+C). */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
