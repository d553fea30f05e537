import {
  FrameKind,
  frameKeyOf,
  frameKindOf,
  frameTypeLabel,
  passthroughTypeOf,
} from './frame-kind';

describe('frameTypeLabel', () => {
  it.each([
    ['auth', 'auth'],
    ['call_state', 'call_state'],
    ['call flow', 'call_flow'],
    ['Call-Flow', 'call_flow'],
    ['sms', 'sms'],
    ['balance', 'balance'],
    ['tn_order', 'tn_order'],
    ['call_record', 'call_record'],
    ['call_asr', 'call_asr'],
    ['call_transcript', 'call_transcript'],
    ['transcript', 'transcript'],
    ['sip_user', 'sip_user'],
    ['sms_campaign', 'sms_campaign'],
    [' TRANSACTION ', 'transaction'],
  ])('labels %j as %s', (type, label) => {
    expect(frameTypeLabel(type)).toBe(label);
  });

  it.each(['conference_state', 'call_bridged', '', 'x'.repeat(500), 'call_state2', 'auth\u0000'])(
    'labels the unknown kind %j as other',
    (type) => {
      expect(frameTypeLabel(type)).toBe('other');
    },
  );

  it('keeps 20,000 made-up kinds within a small, fixed set of labels', () => {
    const labels = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      labels.add(frameTypeLabel(`made_up_${i}`));
      labels.add(frameTypeLabel(['sms', 'call_state', 'balance'][i % 3]));
    }
    expect([...labels].sort()).toEqual(['balance', 'call_state', 'other', 'sms']);
  });
});

describe('frameKindOf', () => {
  it('maps the ASR and transcript names to the transcript reader', () => {
    expect(frameKindOf('call_asr')).toBe(FrameKind.Transcript);
    expect(frameKindOf('call_transcription_ready')).toBe(FrameKind.Transcript);
    expect(frameKindOf('conference_state')).toBe(FrameKind.Passthrough);
    expect(passthroughTypeOf('conference state!')).toBe('opentact.conference_state_');
    expect(frameKindOf(frameKeyOf(' Call - FLOW '))).toBe(FrameKind.CallFlow);
    expect(frameKeyOf('call \t flow')).toBe('call_flow');
  });

  it('names an unknown kind in at most 64 safe characters, and never with nothing', () => {
    expect(passthroughTypeOf('k'.repeat(65))).toBe(`opentact.${'k'.repeat(64)}`);
    expect(passthroughTypeOf('')).toBe('opentact.unknown');
  });
});
