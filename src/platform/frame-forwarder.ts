import type { Logger } from 'pino';
import type { ConnectionListeners } from './connection-listeners';
import { errorInfo, isoOf } from './connection-support';
import type { FrameSink } from './opentact-connection.types';

export interface FrameLimits {
  /** In-flight sink calls at which reading pauses; it resumes at half. */
  maxFrames: number;
  /** Bytes of in-flight frames at which reading pauses too; it resumes at half. */
  maxBytes: number;
}

/** What the forwarder pauses: every socket that may still deliver frames. */
export interface PausableReader {
  setPaused(paused: boolean): void;
}

export interface FrameFlowStatus {
  lastFrameAt?: string;
  paused: boolean;
  pendingFrames: number;
  pendingBytes: number;
}

/**
 * Hands every frame to the `FrameSink` in arrival order and pauses the attached readers while the
 * sink is behind (by calls or bytes in flight), resuming them at half.
 */
export class FrameForwarder {
  private paused = false;
  private pendingBytes = 0;
  private lastFrameAt?: number;
  private readonly pending = new Set<Promise<void>>();
  private readonly readers = new Set<PausableReader>();

  constructor(
    private readonly sink: FrameSink,
    private readonly limits: FrameLimits,
    private readonly listeners: ConnectionListeners,
    private readonly logger: Logger,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** Sink calls not settled yet, for a bounded drain on stop. */
  inFlight(): Promise<void>[] {
    return [...this.pending];
  }

  attach(reader: PausableReader): void {
    this.readers.add(reader);
  }

  detach(reader: PausableReader): void {
    this.readers.delete(reader);
  }

  detachAll(): void {
    this.readers.clear();
  }

  forward(data: Buffer, isBinary: boolean, receivedAtMs: number): void {
    this.lastFrameAt = receivedAtMs;
    this.listeners.notify('onFrame', isBinary);
    const bytes = data.length;
    this.pendingBytes += bytes;
    // Runs the sink synchronously (frames reach it in arrival order); a throw becomes a rejection.
    const delivered = (async (): Promise<void> => {
      await this.sink.onFrame(data, isBinary, receivedAtMs);
    })();
    const tracked: Promise<void> = delivered
      .catch((error: unknown) => {
        this.logger.error({ err: errorInfo(error) }, 'frame sink rejected a frame');
      })
      .finally(() => {
        this.pending.delete(tracked);
        this.pendingBytes -= bytes;
        this.maybeResume();
      });
    this.pending.add(tracked);
    if (
      !this.paused &&
      (this.pending.size >= this.limits.maxFrames || this.pendingBytes >= this.limits.maxBytes)
    ) {
      this.paused = true;
      this.readers.forEach((r) => r.setPaused(true));
      this.logger.warn(
        { pendingFrames: this.pending.size, pendingBytes: this.pendingBytes },
        'sink is behind; pausing reads',
      );
      this.listeners.notify('onPause');
    }
  }

  status(): FrameFlowStatus {
    return {
      lastFrameAt: isoOf(this.lastFrameAt),
      paused: this.paused,
      pendingFrames: this.pending.size,
      pendingBytes: this.pendingBytes,
    };
  }

  private maybeResume(): void {
    if (
      this.paused &&
      this.pending.size <= Math.floor(this.limits.maxFrames / 2) &&
      this.pendingBytes <= Math.floor(this.limits.maxBytes / 2)
    ) {
      this.paused = false;
      this.readers.forEach((r) => r.setPaused(false));
      this.logger.info(
        { pendingFrames: this.pending.size, pendingBytes: this.pendingBytes },
        'sink caught up; resuming reads',
      );
      this.listeners.notify('onResume');
    }
  }
}
