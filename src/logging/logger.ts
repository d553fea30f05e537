import { type LoggerService } from '@nestjs/common';
import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Paths redacted from every log line. Code never logs secrets on purpose; this is the second lock.
 */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'secrets',
  'authorization',
  'adminApiKey',
  '*.token',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.authorization',
  'headers.authorization',
  'headers["x-auth-token"]',
  'req.headers.authorization',
];

export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'opentact-bridge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Routes Nest's own log calls into pino so every line is JSON. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
