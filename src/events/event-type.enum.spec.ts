import { EventType, isNormalizedEventType } from './event-type.enum';

describe('isNormalizedEventType', () => {
  it('knows every modelled type, and nothing close to one', () => {
    for (const type of Object.values(EventType)) {
      expect(isNormalizedEventType(type)).toBe(true);
    }
    expect(isNormalizedEventType('call.unknown')).toBe(false);
    expect(isNormalizedEventType('')).toBe(false);
  });

  it('takes a passthrough type only as the whole of opentact.<name>', () => {
    expect(isNormalizedEventType('opentact.call_bridged')).toBe(true);
    expect(isNormalizedEventType('opentact.Fax.v2-x')).toBe(true);
    expect(isNormalizedEventType('opentact.')).toBe(false);
    expect(isNormalizedEventType('x.opentact.call_bridged')).toBe(false);
    expect(isNormalizedEventType('opentact.call bridged')).toBe(false);
    expect(isNormalizedEventType('opentact.call_bridged\n')).toBe(false);
  });
});
