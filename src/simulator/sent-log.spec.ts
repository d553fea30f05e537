import { SentLog } from './sent-log';

describe('SentLog', () => {
  it('keeps entries in order with the sockets each reached and a wall-clock time', () => {
    const log = new SentLog();
    const before = Date.now();
    log.append('a', 2);
    log.append('b', 0);
    expect(log.entries.map(({ id, sockets }) => [id, sockets])).toEqual([
      ['a', 2],
      ['b', 0],
    ]);
    expect(log.entries[0].at).toBeGreaterThanOrEqual(before - 1);
    expect(log.entries[0].at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('trims to the last `limit` entries in chunks, and counts trimmed ones in total', () => {
    const log = new SentLog(3, 2);
    for (let i = 0; i < 5; i++) {
      log.append(`f${i}`, 1);
    }
    // Within the slack nothing is trimmed until read.
    expect(log.total).toBe(5);
    expect(log.entries.map((entry) => entry.id)).toEqual(['f2', 'f3', 'f4']);
    for (let i = 5; i < 11; i++) {
      log.append(`f${i}`, 1);
    }
    expect(log.total).toBe(11);
    expect(log.entries.map((entry) => entry.id)).toEqual(['f8', 'f9', 'f10']);
  });

  it('names a frame by its uuid, else its sim_id, else a sim-<n> id', () => {
    const log = new SentLog();
    expect(log.frameId({ uuid: 'u-1', sim_id: 's-1' })).toBe('u-1');
    expect(log.frameId({ sim_id: 's-1' })).toBe('s-1');
    expect(log.frameId({ type: 'balance' })).toBe('sim-1');
    expect(log.frameId({ type: 'balance' })).toBe('sim-2');
  });

  it('names raw text by the id inside it when it is a JSON frame, else raw-<n> from one sequence', () => {
    const log = new SentLog();
    expect(log.rawId('{"type":"sms","sim_id":"s-9"}')).toBe('s-9');
    expect(log.rawId('not json at all')).toBe('raw-1');
    expect(log.rawId('[1,2]')).toBe('raw-2');
    expect(log.frameId({})).toBe('sim-3');
  });
});
