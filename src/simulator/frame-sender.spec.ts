import { FrameSender } from './frame-sender';

function rig(opts: { filter: boolean; subscribed: string[]; sockets?: number }) {
  const appended: [string, number][] = [];
  const broadcasts: [string, boolean][] = [];
  const counters = { framesFiltered: 0 };
  const sender = new FrameSender(
    {
      broadcast: (data, binary) => {
        broadcasts.push([data.toString('utf8'), binary]);
        return opts.sockets ?? 2;
      },
    },
    { isSubscribed: (type) => type === undefined || opts.subscribed.includes(type) },
    { filterBySubscription: opts.filter },
    counters,
    { append: (id, sockets) => appended.push([id, sockets]) },
  );
  return { sender, appended, broadcasts, counters };
}

describe('FrameSender', () => {
  it('broadcasts every frame and logs the sockets it reached when filtering is off', () => {
    const { sender, appended, broadcasts } = rig({ filter: false, subscribed: [] });
    expect(sender.send(Buffer.from('{"type":"sms"}'), false, 'id-1')).toBe(2);
    expect(sender.send(Buffer.from('bin'), true, 'id-2')).toBe(2);
    expect(broadcasts).toEqual([
      ['{"type":"sms"}', false],
      ['bin', true],
    ]);
    expect(appended).toEqual([
      ['id-1', 2],
      ['id-2', 2],
    ]);
  });

  it('with filtering, holds back unsubscribed types (counted and logged with 0 sockets)', () => {
    const { sender, appended, broadcasts, counters } = rig({ filter: true, subscribed: ['sms'] });
    expect(sender.send(Buffer.from('{"type":"balance"}'), false, 'b')).toBe(0);
    expect(sender.send(Buffer.from('{"type":"sms"}'), false, 's')).toBe(2);
    // The type given wins over the one in the bytes.
    expect(sender.send(Buffer.from('{"type":"sms"}'), false, 'g', 'balance')).toBe(0);
    expect(broadcasts.map(([text]) => text)).toEqual(['{"type":"sms"}']);
    expect(appended).toEqual([
      ['b', 0],
      ['s', 2],
      ['g', 0],
    ]);
    expect(counters.framesFiltered).toBe(2);
  });

  it('with filtering, sends frames without a readable type regardless', () => {
    const { sender, counters } = rig({ filter: true, subscribed: [] });
    expect(sender.send(Buffer.from('not json'), false, 'r1')).toBe(2);
    expect(sender.send(Buffer.from('{"type":7}'), false, 'r2')).toBe(2);
    expect(counters.framesFiltered).toBe(0);
  });
});
