import { RequestPacer } from './request-pacer';

describe('RequestPacer', () => {
  it('lets requests start at most perSecond apart, the first at once', async () => {
    let now = 1_000;
    const slept: number[] = [];
    const pacer = new RequestPacer(
      4,
      () => now,
      (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await pacer.next();
      starts.push(now);
    }
    expect(starts).toEqual([1_000, 1_250, 1_500, 1_750, 2_000]);
    expect(slept).toEqual([250, 250, 250, 250]);
  });

  it('does not bank unused time: after a pause, only the usual spacing applies', async () => {
    let now = 0;
    const slept: number[] = [];
    const pacer = new RequestPacer(
      2,
      () => now,
      (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    );
    await pacer.next();
    now = 10_000;
    await pacer.next();
    await pacer.next();
    expect(slept).toEqual([500]);
  });
});
