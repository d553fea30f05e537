import { EntityHistory } from './entity-history';
import { buildFrame, newCall } from './frame-factory';

const window = (fromMs?: number, toMs?: number) => ({ modified: { fromMs, toMs } });

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

    const calls = history.search('calls', window(t0, t0 + 10_000), 100, 0);
    expect(calls.total).toBe(1);
    // Newer frames leave out null timestamps; the merged entity keeps init_on from the first.
    expect(calls.data[0]).toMatchObject({
      uuid: call.uuid,
      state: 'live',
      init_on: new Date(t0 + 1_000).toISOString(),
      answer_on: new Date(t0 + 2_000).toISOString(),
    });
    const page = history.search('sms-inbound', window(t0, t0 + 10_000), 2, 2);
    expect(page.total).toBe(3);
    expect(page.data).toHaveLength(1);
    expect(page.data[0].type).toBeUndefined();
    expect(history.search('sms-outbound', window(t0, t0 + 10_000), 100, 0).total).toBe(1);
    expect(history.search('sms-inbound', window(t0 + 3_002), 100, 0).total).toBe(1);
  });

  it('answers an SMS with the keys reference §7.1 lists, and no smsi/smso/smsr', () => {
    const history = new EntityHistory();
    history.recordFrame(buildFrame('sms_outbound', 'older'));
    const [sms] = history.search('sms-outbound', {}, 10, 0).data;
    expect(Object.keys(sms).sort()).toEqual(
      [
        'uuid',
        'from',
        'to',
        'thread',
        'message',
        'state',
        'delivered',
        'readed',
        'reference_id',
        'tn',
        'account',
        'created_on',
        'modified_on',
      ].sort(),
    );
  });

  it('filters on the documented body fields: created_on, numbers by digits, flags, state, app', () => {
    const history = new EntityHistory();
    const t0 = Date.parse('2026-03-01T10:00:00.000Z');
    const sent = buildFrame('sms_outbound', 'older', undefined, {
      at: t0,
      smsDelivered: false,
      smsCreatedAt: t0 - 1_000,
    });
    const entity = sent.payload as Record<string, unknown>;
    history.recordFrame(sent);
    history.recordFrame(buildFrame('sms_outbound', 'older', undefined, { at: t0 + 60_000 }));
    const search = (filters: Parameters<EntityHistory['search']>[1]) =>
      history.search('sms-outbound', filters, 100, 0).data.map((e) => e.uuid);

    expect(search({ created: { toMs: t0 } })).toEqual([entity.uuid]);
    expect(search({ equals: { delivered: false } })).toEqual([entity.uuid]);
    expect(search({ equals: { delivered: true } })).toHaveLength(1);
    expect(search({ equals: { thread: String(entity.thread) } })).toEqual([entity.uuid]);
    // `tn` is a JSON number on the entity, `+` optional on a party: both match by their digits.
    expect(search({ equals: { tn: '+18382049000', to: '+18389999168' } })).toHaveLength(2);
    expect(search({ equals: { from: '18382049001' } })).toEqual([]);
    expect(search({ equals: { reference_id: String(entity.reference_id) } })).toEqual([
      entity.uuid,
    ]);
    expect(search({ equals: { state: 'created' } })).toEqual([]);

    const call = newCall('in', t0);
    history.recordFrame(
      buildFrame('call_state', 'older', undefined, { call, state: 'live', at: t0 }),
    );
    const app = (
      (buildFrame('call_state', 'newer').call as Record<string, unknown>).sip_control_app as {
        uuid: string;
      }
    ).uuid;
    expect(history.search('calls', { equals: { sip_control_app: app } }, 10, 0).total).toBe(1);
    expect(history.search('calls', { equals: { state: 'destroyed' } }, 10, 0).total).toBe(0);
  });

  it('pages in a stable order: modified_on, then uuid', () => {
    const history = new EntityHistory();
    const at = new Date(0).toISOString();
    for (const uuid of ['m3', 'm1', 'm2']) {
      history.recordSms({ uuid, modified_on: at }, 'inbound');
    }
    expect(history.search('sms-inbound', {}, 2, 0).data.map((e) => e.uuid)).toEqual(['m1', 'm2']);
    expect(history.search('sms-inbound', {}, 2, 2).data.map((e) => e.uuid)).toEqual(['m3']);
  });

  it('keeps at most its bound of entities, dropping the oldest', () => {
    const history = new EntityHistory(2);
    for (let i = 0; i < 3; i++) {
      history.recordSms({ uuid: `m${i}`, modified_on: new Date(i).toISOString() }, 'inbound');
    }
    expect(history.size.sms).toBe(2);
    expect(history.search('sms-inbound', {}, 10, 0).data.map((e) => e.uuid)).toEqual(['m1', 'm2']);
  });
});
