export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Exponents above this already exceed any sane cap; clamping keeps `2 ** attempt` finite. */
const MAX_EXPONENT = 52;

function ceilingMs(attempt: number, opts: BackoffOptions): number {
  const base = Math.max(0, opts.baseMs);
  const max = Math.max(0, opts.maxMs);
  const exponent = Number.isNaN(attempt)
    ? 0
    : Math.min(MAX_EXPONENT, Math.max(0, Math.floor(attempt)));
  const grown = base * 2 ** exponent;
  return Number.isFinite(grown) ? Math.min(max, grown) : max;
}

function unit(random: () => number): number {
  const r = random();
  return Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 0;
}

/**
 * Capped exponential backoff with full jitter: `random() * min(maxMs, baseMs * 2 ** attempt)`.
 * Full jitter spreads a herd of reconnecting clients evenly over the window.
 */
export function computeBackoffMs(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  return Math.floor(unit(random) * ceilingMs(attempt, opts));
}

/**
 * Capped exponential backoff with "equal jitter": half the window is fixed, half is random.
 * Used after an authentication failure, where waiting close to zero (possible with full jitter)
 * would hammer the upstream with credentials it just refused.
 */
export function computeEqualJitterBackoffMs(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = ceilingMs(attempt, opts);
  return Math.floor(ceiling / 2 + (unit(random) * ceiling) / 2);
}

/** Counts consecutive attempts; `reset()` once the connection has proven stable. */
export class BackoffTracker {
  private attempt = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call moves one attempt further. */
  next(): number {
    const delay = computeBackoffMs(this.attempt, this.opts, this.random);
    this.attempt = Math.min(this.attempt + 1, MAX_EXPONENT);
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
