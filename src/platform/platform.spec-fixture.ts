import pino, { type Logger } from 'pino';
import type { OpentactConfig } from '../config/app-config';

/**
 * The Opentact settings the platform specs start from (the service's defaults, a password login
 * and fake addresses); each spec overrides what it is about. Spec-only: not built, not mutated.
 */
export function opentactTestConfig(overrides: Partial<OpentactConfig> = {}): OpentactConfig {
  return {
    restUrl: 'http://opentact.test/rest',
    wssUrl: 'ws://opentact.test',
    credentials: { kind: 'password', email: 'demo@opentact.local', password: 'pw' },
    subscribe: [],
    authTimeoutMs: 10_000,
    pingIntervalMs: 30_000,
    pongTimeoutMs: 5_000,
    reconnectBaseMs: 1_000,
    reconnectMaxMs: 30_000,
    authFailureBackoffMs: 60_000,
    stableAfterMs: 60_000,
    tokenRefreshMarginMs: 600_000,
    maxFrameBytes: 1_048_576,
    ...overrides,
  };
}

/** A pino logger whose lines a spec reads back, parsed. */
export function recordingLogger(): {
  logger: Logger;
  lines: () => { level: number; msg: string; [key: string]: unknown }[];
} {
  const raw: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void raw.push(line) });
  return {
    logger,
    lines: () => raw.map((l) => JSON.parse(l) as { level: number; msg: string }),
  };
}
