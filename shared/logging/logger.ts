/**
 * Structured JSON logging with Powertools Logger, the same on Lambda and locally. Every value that
 * goes into a log line passes a JSON replacer that scrubs registered secrets (stream keys,
 * passphrases, tokens) and the key part of RTMP URLs, so a secret cannot reach a log by accident.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { config } from '../config/index.ts';
import { redactText } from '../secrets/secret.ts';

export type { Logger } from '@aws-lambda-powertools/logger';

const replacer = (_key: string, value: unknown): unknown => (typeof value === 'string' ? redactText(value) : value);

const loggers = new Map<string, Logger>();

/** One logger per service name. */
export function createLogger(serviceName: string): Logger {
  let logger = loggers.get(serviceName);
  if (!logger) {
    logger = new Logger({
      serviceName,
      logLevel: config().logLevel,
      jsonReplacerFn: replacer,
    });
    loggers.set(serviceName, logger);
  }
  return logger;
}
