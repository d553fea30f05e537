import { performance } from 'node:perf_hooks';
import type { EntityHistory } from './entity-history';
import {
  buildFrame,
  CALL_STATES,
  type CallState,
  type FrameKind,
  type Generation,
  newCall,
  type SimCall,
} from './frame-factory';
import type { FrameSender } from './frame-sender';
import { epochMs, type SentLog } from './sent-log';

export type RateKind = 'call' | 'sms' | 'mixed';

export interface EmitAtRateOptions {
  ratePerSecond: number;
  count?: number;
  durationMs?: number;
  kind?: RateKind;
  generation?: Generation;
  payloadBytes?: number;
  signal?: AbortSignal;
  /**
   * kind `call` only: play `calls` call lifecycles interleaved (frame n is state
   * floor(n / calls) of call n % calls), so every call's states go out in order with other
   * calls' frames between them. Without it each frame is a new call.
   */
  calls?: number;
}

export interface EmitAtRateResult {
  /** Socket-level sends (a frame that reached two sockets counts twice). */
  sent: number;
  /** Distinct frames emitted. */
  frames: number;
}

/** One timer tick never sends more than this, so a long stall cannot monopolise the loop. */
const MAX_FRAMES_PER_TICK = 2_000;
const MAX_RATE_PER_SECOND = 100_000;
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Bounds the memory one interleaved run can hold (a SimCall is a few hundred bytes). */
const MAX_INTERLEAVED_CALLS = 100_000;

export function rateFrameKind(kind: RateKind, seq: number): FrameKind {
  const sms: FrameKind = seq % 4 < 2 ? 'sms_outbound' : 'sms_inbound';
  switch (kind) {
    case 'call':
      return 'call_state';
    case 'sms':
      return sms;
    case 'mixed':
      return seq % 2 === 0 ? 'call_state' : sms;
  }
}

/** The calls of one interleaved run: frame n is state floor(n / size) of call n % size. */
export class CallLifecycles {
  private readonly calls: SimCall[] = [];

  constructor(private readonly size: number) {}

  next(seq: number): { call: SimCall; state: CallState } {
    const index = seq % this.size;
    const round = Math.floor(seq / this.size);
    if (round % CALL_STATES.length === 0) {
      // A new generation of calls every full lifecycle.
      this.calls[index] = newCall('in');
    }
    return { call: this.calls[index], state: CALL_STATES[round % CALL_STATES.length] };
  }
}

/** A frame's JSON padded with a `sim_pad` field up to `payloadBytes` (never cut). */
export function paddedText(frame: Record<string, unknown>, payloadBytes: number): string {
  let text = JSON.stringify(frame);
  if (payloadBytes > 0) {
    const padLength = payloadBytes - text.length - ',"sim_pad":""'.length;
    if (padLength > 0) {
      text = `${text.slice(0, -1)},"sim_pad":"${'x'.repeat(padLength)}"}`;
    }
  }
  return text;
}

/**
 * Emits generated frames at a steady rate for the benchmarks and load tests: in small batches
 * per timer tick, sized from the elapsed time, so the average rate holds even though Node timers
 * fire late; one setTimeout per frame cannot reach 5,000/s.
 */
export class RateGenerator {
  private readonly runs = new Set<AbortController>();

  constructor(
    private readonly sender: Pick<FrameSender, 'send'>,
    private readonly history: Pick<EntityHistory, 'recordFrame'>,
    private readonly log: Pick<SentLog, 'frameId'>,
  ) {}

  /** Ends every run in progress (each resolves with what it sent so far). */
  abortAll(): void {
    for (const controller of this.runs) {
      controller.abort();
    }
  }

  emitAtRate(opts: EmitAtRateOptions): Promise<EmitAtRateResult> {
    const { ratePerSecond: rate, count, durationMs } = opts;
    if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE_PER_SECOND) {
      return Promise.reject(new RangeError(`ratePerSecond must be in (0, ${MAX_RATE_PER_SECOND}]`));
    }
    if (count === undefined && durationMs === undefined) {
      // Unbounded runs would outlive the test that started them.
      return Promise.reject(new RangeError('emitAtRate needs count or durationMs'));
    }
    if (
      (count !== undefined && !(count >= 0)) ||
      (durationMs !== undefined && !(durationMs >= 0))
    ) {
      return Promise.reject(new RangeError('count and durationMs must be >= 0'));
    }
    const target = Math.min(
      count ?? Number.POSITIVE_INFINITY,
      durationMs !== undefined ? Math.floor((rate * durationMs) / 1000) : Number.POSITIVE_INFINITY,
    );
    const kind = opts.kind ?? 'call';
    const generation = opts.generation ?? 'newer';
    const payloadBytes = Math.min(Math.max(0, opts.payloadBytes ?? 0), MAX_PAYLOAD_BYTES);
    const lifecycles =
      kind === 'call' && opts.calls !== undefined && opts.calls > 0
        ? new CallLifecycles(Math.min(Math.floor(opts.calls), MAX_INTERLEAVED_CALLS))
        : undefined;
    const controller = new AbortController();
    const onOuterAbort = (): void => controller.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (opts.signal?.aborted) {
      controller.abort();
    }
    this.runs.add(controller);

    return new Promise((resolve) => {
      const startedAt = performance.now();
      let frames = 0;
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;

      const finish = (): void => {
        if (timer) {
          clearTimeout(timer);
        }
        controller.signal.removeEventListener('abort', finish);
        opts.signal?.removeEventListener('abort', onOuterAbort);
        this.runs.delete(controller);
        resolve({ sent, frames });
      };

      const tick = (): void => {
        timer = undefined;
        const elapsed = performance.now() - startedAt;
        // Frame n is due at n / rate seconds, so frame 0 goes out immediately.
        const due = Math.min(target, Math.floor((elapsed * rate) / 1000) + 1);
        const batchEnd = Math.min(due, frames + MAX_FRAMES_PER_TICK);
        while (frames < batchEnd) {
          sent += this.sendRateFrame(frames, kind, generation, payloadBytes, lifecycles);
          frames++;
        }
        if (frames >= target) {
          finish();
          return;
        }
        const nextDueMs = (frames * 1000) / rate - (performance.now() - startedAt);
        timer = setTimeout(tick, Math.max(1, Math.min(Math.floor(nextDueMs), 100)));
      };

      if (controller.signal.aborted) {
        finish();
        return;
      }
      controller.signal.addEventListener('abort', finish, { once: true });
      tick();
    });
  }

  private sendRateFrame(
    seq: number,
    kind: RateKind,
    generation: Generation,
    payloadBytes: number,
    lifecycles?: CallLifecycles,
  ): number {
    // An outbound SMS of a rate run is one frame, the first event of §4.9: sent, not delivered.
    const frame = buildFrame(rateFrameKind(kind, seq), generation, undefined, {
      ...(lifecycles?.next(seq) ?? { state: CALL_STATES[seq % CALL_STATES.length] }),
      smsDelivered: false,
    });
    frame.sim_seq = seq;
    frame.sim_sent_at = epochMs();
    this.history.recordFrame(frame);
    return this.sender.send(
      Buffer.from(paddedText(frame, payloadBytes)),
      false,
      this.log.frameId(frame),
      String(frame.type),
    );
  }
}
