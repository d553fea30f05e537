import { ConnectionListeners } from './connection-listeners';
import { FrameForwarder } from './frame-forwarder';
import { recordingLogger } from './platform.spec-fixture';

describe('FrameForwarder', () => {
  function make(limits = { maxFrames: 4, maxBytes: 1_000 }) {
    const settle: (() => void)[] = [];
    const fail: ((error: Error) => void)[] = [];
    const received: string[] = [];
    const sink = {
      onFrame: (data: Buffer): Promise<void> => {
        received.push(data.toString('utf8'));
        return new Promise<void>((resolve, reject) => {
          settle.push(resolve);
          fail.push(reject);
        });
      },
    };
    const { logger, lines } = recordingLogger();
    const listeners = new ConnectionListeners(logger);
    const events: string[] = [];
    listeners.add({
      onFrame: (isBinary) => events.push(isBinary ? 'binary' : 'text'),
      onPause: () => events.push('pause'),
      onResume: () => events.push('resume'),
    });
    const forwarder = new FrameForwarder(sink, limits, listeners, logger);
    const reader = { paused: [] as boolean[], setPaused: (p: boolean) => reader.paused.push(p) };
    forwarder.attach(reader);
    return { forwarder, reader, settle, fail, received, events, lines };
  }
  const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('hands frames to the sink in arrival order, synchronously', () => {
    const h = make();
    h.forwarder.forward(Buffer.from('a'), false, 1);
    h.forwarder.forward(Buffer.from('b'), true, 2);
    expect(h.received).toEqual(['a', 'b']);
    expect(h.events).toEqual(['text', 'binary']);
    expect(h.forwarder.status()).toEqual({
      lastFrameAt: new Date(2).toISOString(),
      paused: false,
      pendingFrames: 2,
      pendingBytes: 2,
    });
  });

  it('pauses the readers at maxFrames in flight and resumes them at half', async () => {
    const h = make();
    for (const id of ['1', '2', '3', '4']) {
      h.forwarder.forward(Buffer.from(id), false, 0);
    }
    expect(h.reader.paused).toEqual([true]);
    expect(h.forwarder.isPaused).toBe(true);
    h.settle.shift()?.();
    await flush();
    expect(h.reader.paused).toEqual([true]); // 3 left: above half
    h.settle.shift()?.();
    await flush();
    expect(h.reader.paused).toEqual([true, false]);
    expect(h.events.filter((e) => e === 'pause' || e === 'resume')).toEqual(['pause', 'resume']);
  });

  it('pauses on bytes in flight too', () => {
    const h = make({ maxFrames: 100, maxBytes: 10 });
    h.forwarder.forward(Buffer.alloc(9), false, 0);
    expect(h.forwarder.isPaused).toBe(false);
    h.forwarder.forward(Buffer.alloc(1), false, 0);
    expect(h.forwarder.isPaused).toBe(true);
    expect(h.forwarder.status().pendingBytes).toBe(10);
  });

  it('logs a rejected frame and counts it settled', async () => {
    const h = make();
    h.forwarder.forward(Buffer.from('x'), false, 0);
    h.fail.shift()?.(new Error('write failed'));
    await flush();
    expect(h.forwarder.status()).toMatchObject({ pendingFrames: 0, pendingBytes: 0 });
    expect(h.forwarder.inFlight()).toEqual([]);
    expect(h.lines()).toEqual([expect.objectContaining({ msg: 'frame sink rejected a frame' })]);
  });

  it('leaves detached readers alone', () => {
    const h = make({ maxFrames: 1, maxBytes: 1_000 });
    h.forwarder.detach(h.reader);
    h.forwarder.forward(Buffer.from('x'), false, 0);
    expect(h.forwarder.isPaused).toBe(true);
    expect(h.reader.paused).toEqual([]);
  });
});
