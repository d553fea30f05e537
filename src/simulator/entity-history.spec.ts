import { EntityHistory } from './entity-history';
import { buildFrame, newCall } from './frame-factory';

describe('EntityHistory', () => {
  it('answers searches with the latest state of each entity modified in the window, paged', () => {
    const history = new EntityHistory();
    const t0 = Date.parse('2026-03-01T10:00:00.000Z');
    const call = newCall('in', t0);
    history.recordFrame(
      buildFrame('call_state', 'newer', undefined, { call, state: 'init', at: t0 + 1_000 }),
    );
    history.recordFrame(
      buildFrame('call_state', 'newer', undefined, { call, state: 'live', at: t0 + 2_000 }),
    );
    for (let i = 0; i < 3; i++) {
      history.recordFrame(buildFrame('sms_inbound', 'older', undefined, { at: t0 + 3_000 + i }));
    }
    history.recordFrame(buildFrame('sms_outbound', 'newer', undefined, { at: t0 + 4_000 }));

    const calls = history.search('calls', t0, t0 + 10_000, 100, 0);
    expect(calls.total).toBe(1);
    // Newer frames leave out null timestamps; the merged entity keeps init_on from the first.
    expect(calls.data[0]).toMatchObject({
      uuid: call.uuid,
      state: 'live',
      init_on: new Date(t0 + 1_000).toISOString(),
      answer_on: new Date(t0 + 2_000).toISOString(),
    });
    const page = history.search('sms-inbound', t0, t0 + 10_000, 2, 2);
    expect(page.total).toBe(3);
    expect(page.data).toHaveLength(1);
    expect(page.data[0].type).toBeUndefined();
    expect(history.search('sms-outbound', t0, t0 + 10_000, 100, 0).total).toBe(1);
    expect(history.search('sms-inbound', t0 + 3_002, undefined, 100, 0).total).toBe(1);
  });

  it('keeps at most its bound of entities, dropping the oldest', () => {
    const history = new EntityHistory(2);
    for (let i = 0; i < 3; i++) {
      history.recordSms({ uuid: `m${i}`, modified_on: new Date(i).toISOString() }, 'inbound');
    }
    expect(history.size.sms).toBe(2);
    expect(
      history.search('sms-inbound', undefined, undefined, 10, 0).data.map((e) => e.uuid),
    ).toEqual(['m1', 'm2']);
  });
});
