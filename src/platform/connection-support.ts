import type { Logger } from 'pino';

/** setTimeout fires at once for delays above 2^31-1 ms; a token living weeks must not do that. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** One pending callback at a time, unref'd so it never holds the process open. */
export class OneShotTimer {
  private timer?: NodeJS.Timeout;

  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Replaces any pending callback; the delay is clamped to what setTimeout honours. */
  set(ms: number, fn: () => void): void {
    this.clear();
    const timer = setTimeout(
      () => {
        this.timer = undefined;
        fn();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, ms)),
    );
    timer.unref();
    this.timer = timer;
  }

  clear(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}

/** Error fields safe to log: the message and code, never request options or headers. */
export function errorInfo(error: unknown): { message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === 'string' ? code : undefined };
  }
  return { message: String(error) };
}

export function isoOf(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/** Runs a connect/refresh step from a timer; a bug there is logged, never an unhandled rejection. */
export function spawn(logger: Logger, work: Promise<void>): void {
  work.catch((error: unknown) => {
    logger.error({ err: errorInfo(error) }, 'unexpected error in the connection loop');
  });
}

/** Resolves true if `work` settled within `ms`, false otherwise; never leaves a timer behind. */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
