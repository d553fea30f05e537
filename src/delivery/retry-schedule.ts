/**
 * The delay before the next attempt, or `undefined` when the schedule is spent and the delivery
 * should be given up. With a schedule of n delays a delivery gets n + 1 attempts: the first one
 * immediately, then one after each delay.
 *
 * @param attemptsMade attempts already made (1 after the first attempt failed)
 * @param scheduleMs delays before attempts 2..n+1
 * @param jitter fraction of spread, 0.2 scales each delay by a factor in [0.8, 1.2], so that
 *   deliveries that failed together (a receiver outage) do not all come back in the same second
 */
export function nextDelayMs(
  attemptsMade: number,
  scheduleMs: readonly number[],
  jitter: number,
  random: () => number = Math.random,
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new RangeError(`attemptsMade must be a whole number >= 0, got ${attemptsMade}`);
  }
  if (!(jitter >= 0 && jitter < 1)) {
    throw new RangeError(`jitter must be in [0, 1), got ${jitter}`);
  }
  if (attemptsMade === 0) {
    return 0;
  }
  const base = scheduleMs[attemptsMade - 1];
  if (base === undefined) {
    return undefined;
  }
  const factor = 1 + jitter * (2 * random() - 1);
  return Math.round(base * factor);
}

/**
 * The delay to use when the receiver sent `Retry-After`.
 *
 * Svix clamps Retry-After into [scheduled, 2 × scheduled]. We wait as long as the receiver asked,
 * capped at `maxMs`, and never less than the schedule: a receiver that says "come back in ten
 * minutes" 5 s into the schedule would otherwise be hit again at 10 s, wasting one of its few
 * attempts on a request it told us it would refuse. The cap keeps a hostile or buggy value
 * (Retry-After: 1 year) from parking a delivery forever; it applies to the receiver's value only,
 * so it can never make us retry sooner than the schedule would.
 */
export function applyRetryAfter(
  scheduledMs: number,
  retryAfterMs: number | undefined,
  maxMs: number,
): number {
  if (retryAfterMs === undefined) {
    return scheduledMs;
  }
  return Math.max(scheduledMs, Math.min(retryAfterMs, maxMs));
}
