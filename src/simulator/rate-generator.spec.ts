import { CALL_STATES } from './frame-factory';
import { CallLifecycles, paddedText, RateGenerator, rateFrameKind } from './rate-generator';
import { SentLog } from './sent-log';

function rig(socketsPerFrame = 1) {
  const sent: { frame: Record<string, unknown>; bytes: number; type?: string }[] = [];
  const recorded: Record<string, unknown>[] = [];
  const generator = new RateGenerator(
    {
      send: (data, _binary, _id, type) => {
        sent.push({
          frame: JSON.parse(data.toString('utf8')) as Record<string, unknown>,
          bytes: data.length,
          type,
        });
        return socketsPerFrame;
      },
    },
    { recordFrame: (frame) => recorded.push(frame) },
    new SentLog(),
  );
  return { generator, sent, recorded };
}

describe('rate generator', () => {
  it('picks the frame kind per sequence number', () => {
    expect([0, 1, 2, 3].map((seq) => rateFrameKind('call', seq))).toEqual(
      Array(4).fill('call_state'),
    );
    expect([0, 1, 2, 3, 4].map((seq) => rateFrameKind('sms', seq))).toEqual([
      'sms_outbound',
      'sms_outbound',
      'sms_inbound',
      'sms_inbound',
      'sms_outbound',
    ]);
    expect([0, 1, 2, 3].map((seq) => rateFrameKind('mixed', seq))).toEqual([
      'call_state',
      'sms_outbound',
      'call_state',
      'sms_inbound',
    ]);
  });

  it('interleaves call lifecycles: frame n is state n / size of call n % size', () => {
    const lifecycles = new CallLifecycles(2);
    const steps = Array.from({ length: 12 }, (_, seq) => lifecycles.next(seq));
    expect(steps.map((step) => step.state)).toEqual([
      ...CALL_STATES.flatMap((state) => [state, state]),
      'init',
      'init',
    ]);
    expect(steps[0].call).toBe(steps[8].call);
    expect(steps[1].call).toBe(steps[9].call);
    expect(steps[0].call).not.toBe(steps[1].call);
    // A new generation of calls after a full lifecycle.
    expect(steps[10].call).not.toBe(steps[0].call);
  });

  it('pads a frame to payloadBytes with sim_pad, never cutting one already larger', () => {
    const frame = { type: 'sms', payload: { a: 1 } };
    expect(paddedText(frame, 0)).toBe(JSON.stringify(frame));
    const padded = paddedText(frame, 200);
    expect(padded).toHaveLength(200);
    const parsed = JSON.parse(padded) as Record<string, unknown>;
    expect(parsed).toMatchObject(frame);
    expect(parsed.sim_pad).toMatch(/^x+$/);
    expect(paddedText(frame, 10)).toBe(JSON.stringify(frame));
  });

  it('sends `count` frames with rising sim_seq, recorded in the history, and sums the sockets', async () => {
    const { generator, sent, recorded } = rig(2);
    const result = await generator.emitAtRate({ ratePerSecond: 100_000, count: 50, kind: 'mixed' });
    expect(result).toEqual({ sent: 100, frames: 50 });
    expect(sent.map(({ frame }) => frame.sim_seq)).toEqual([...Array(50).keys()]);
    expect(sent.every(({ frame, type }) => frame.type === type)).toBe(true);
    expect(recorded).toHaveLength(50);
  });

  it('pads every frame of a run to payloadBytes', async () => {
    const { generator, sent } = rig();
    await generator.emitAtRate({ ratePerSecond: 100_000, count: 3, payloadBytes: 8_192 });
    expect(sent.map(({ bytes }) => bytes)).toEqual([8_192, 8_192, 8_192]);
  });

  it('stops a run on its signal and on abortAll, resolving with what was sent', async () => {
    const { generator } = rig();
    const controller = new AbortController();
    controller.abort();
    await expect(
      generator.emitAtRate({ ratePerSecond: 10, count: 100, signal: controller.signal }),
    ).resolves.toEqual({ sent: 0, frames: 0 });
    const run = generator.emitAtRate({ ratePerSecond: 10, durationMs: 60_000 });
    generator.abortAll();
    await expect(run).resolves.toEqual({ sent: 1, frames: 1 });
  });

  it.each([
    [{ ratePerSecond: 0, count: 1 }],
    [{ ratePerSecond: 100_001, count: 1 }],
    [{ ratePerSecond: Number.NaN, count: 1 }],
    [{ ratePerSecond: 10 }],
    [{ ratePerSecond: 10, count: -1 }],
    [{ ratePerSecond: 10, durationMs: -1 }],
  ])('rejects %p', async (options) => {
    await expect(rig().generator.emitAtRate(options)).rejects.toBeInstanceOf(RangeError);
  });
});
