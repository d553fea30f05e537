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
  'sentinelPassword',
  '*.token',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.authorization',
  '*.adminApiKey',
  '*.sentinelPassword',
  'headers.authorization',
  'headers["x-auth-token"]',
  'req.headers.authorization',
];

/**
 * Error fields that carry what a client sent rather than what went wrong: ioredis puts the failed
 * command on its errors (`AUTH <password>` when the Redis password is wrong), HTTP clients put
 * their request options and headers. Dropped from every logged error.
 */
const REQUEST_FIELDS = ['command', 'args', 'options', 'config', 'headers', 'request', 'response'];

/** pino's error serializer without the fields above. */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) {
    return error;
  }
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const field of REQUEST_FIELDS) {
    delete serialized[field];
  }
  return serialized;
}

/** The part of an error worth a log line when it repeats: message and code, nothing attached. */
export function errorSummary(error: unknown): { message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(error) };
}

export function createRootLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'opentact-bridge' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
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
