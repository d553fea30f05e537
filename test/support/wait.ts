/**
 * The one polling loop of the test kit (tests, bench and fault suite): wait on a condition,
 * never a fixed sleep. Every other waiting helper is built on `waitFor`.
 */

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** What every wait of the kit throws when its time is up. */
export class WaitTimeoutError extends Error {
  constructor(timeoutMs: number, what: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * Polls `check` every `intervalMs` until it returns a truthy value, which it returns; throws
 * `timed out after <timeoutMs> ms waiting for <what>` once `timeoutMs` has passed. An error
 * thrown by `check` ends the wait at once (a process that died need not be waited for).
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
  /** A function is read when the time is up, so the message can say how far it got. */
  what: string | (() => string) = 'condition',
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(timeoutMs, typeof what === 'function' ? what() : what);
    }
    await sleep(intervalMs);
  }
}

/** `waitFor` for a boolean condition; resolves to the milliseconds it took. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  intervalMs = 50,
): Promise<number> {
  const started = Date.now();
  await waitFor(check, timeoutMs, what, intervalMs);
  return Date.now() - started;
}

/** `waitFor` that answers whether the condition held in time instead of throwing. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  try {
    await waitFor(check, timeoutMs, 'condition', intervalMs);
    return true;
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      return false;
    }
    throw error;
  }
}
