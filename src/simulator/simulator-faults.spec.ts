import { SimulatorFaults } from './simulator-faults';

function faults(now: () => number = () => 0): SimulatorFaults {
  return new SimulatorFaults({ authMode: 'accept', filterBySubscription: false }, now);
}

describe('SimulatorFaults', () => {
  it('starts from the options given and with pongs on', () => {
    const initial = new SimulatorFaults({ authMode: 'refuse', filterBySubscription: true });
    expect([initial.authMode, initial.filterBySubscription, initial.pongsEnabled]).toEqual([
      'refuse',
      true,
      true,
    ]);
    expect(initial.authAckOverride).toBeUndefined();
    expect(initial.subscriptionFault).toBeUndefined();
  });

  it('fails the next `count` searches with the status, then clears itself', () => {
    const f = faults();
    expect(f.takeSearchFault()).toBeUndefined();
    f.setSearchFault(503, 2);
    expect([f.takeSearchFault(), f.takeSearchFault(), f.takeSearchFault()]).toEqual([
      503,
      503,
      undefined,
    ]);
    f.setSearchFault(500, 5);
    f.setSearchFault(500, 0);
    expect(f.takeSearchFault()).toBeUndefined();
  });

  it.each([
    [399, 1],
    [600, 1],
    [500.5, 1],
    [500, -1],
    [500, 1.5],
  ])('refuses search fault status %p count %p', (status, count) => {
    expect(() => faults().setSearchFault(status, count)).toThrow(RangeError);
  });

  it('takes subscription fault statuses 400-599 or undefined only', () => {
    const f = faults();
    f.setSubscriptionFault(502);
    expect(f.subscriptionFault).toBe(502);
    expect(() => f.setSubscriptionFault(302)).toThrow(RangeError);
    expect(f.subscriptionFault).toBe(502);
    f.setSubscriptionFault(undefined);
    expect(f.subscriptionFault).toBeUndefined();
  });

  it('refuses the next `refuseCreates` creates and keeps fields left out', () => {
    const f = faults();
    expect(f.takeCreateRefusal()).toBe(false);
    expect(f.setSubscriptionApi({ refuseCreates: 2, update: false })).toEqual({
      refuseCreates: 2,
      update: false,
      remove: true,
    });
    expect([f.takeCreateRefusal(), f.takeCreateRefusal(), f.takeCreateRefusal()]).toEqual([
      true,
      true,
      false,
    ]);
    expect(f.setSubscriptionApi({ remove: false })).toEqual({
      refuseCreates: 0,
      update: false,
      remove: false,
    });
    expect([f.subscriptionUpdates, f.subscriptionRemoves]).toEqual([false, false]);
    expect(() => f.setSubscriptionApi({ refuseCreates: -1 })).toThrow(RangeError);
  });

  it('refuses connections for `ms` by its clock', () => {
    let now = 1_000;
    const f = faults(() => now);
    expect(f.refusingConnections).toBe(false);
    f.refuseConnectionsFor(500);
    now = 1_499;
    expect(f.refusingConnections).toBe(true);
    now = 1_500;
    expect(f.refusingConnections).toBe(false);
    expect(() => f.refuseConnectionsFor(3_600_001)).toThrow(RangeError);
    expect(() => f.refuseConnectionsFor(-1)).toThrow(RangeError);
  });

  it('answers auth with set bytes, accepted unless told, until cleared', () => {
    const f = faults();
    f.setAuthAck('{"a":1}');
    expect(f.authAckOverride).toEqual({ text: '{"a":1}', accepted: true });
    f.setAuthAck('{"a":2}', { accepted: false });
    expect(f.authAckOverride).toEqual({ text: '{"a":2}', accepted: false });
    f.setAuthAck(undefined);
    expect(f.authAckOverride).toBeUndefined();
  });
});
