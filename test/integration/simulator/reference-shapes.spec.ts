import { once } from 'node:events';
import { WebSocket } from 'ws';
import {
  buildFrame,
  type FrameKind,
  type Generation,
  newCall,
  newChildLeg,
  NO_USER_RESPONSE,
} from '../../../src/simulator/frame-factory';
import { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import {
  AUTH_ACK,
  BALANCE_CALL_ASR,
  CALL_HANGUP,
  CALL_ANSWERED,
  CALL_DESTROYED,
  CALL_INITIATED,
  CALL_LIVE,
  SMS_OUTBOUND_DELIVERED,
  type ReferenceFrame,
} from '../../fixtures/opentact-reference-frames';

type Json = Record<string, unknown>;

/** `path: JSON type` for every key of a frame, arrays by their element shapes. */
function shape(value: unknown, path = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    out.set(path, 'array');
    return out;
  }
  if (value !== null && typeof value === 'object') {
    if (path !== '') {
      out.set(path, 'object');
    }
    for (const [key, child] of Object.entries(value as Json)) {
      shape(child, path === '' ? key : `${path}.${key}`, out);
    }
    return out;
  }
  out.set(path, value === null ? 'null' : typeof value);
  return out;
}

/**
 * Keys whose JSON type the reference itself shows varying (§3.3/§3.4: `parent` is a call or null,
 * per-state timestamps string or null, `stir_shaken_attest_level` null or a string), or that only
 * the examples' hand-completion added.
 */
const EITHER_NULL =
  /(^|\.)(parent|init_on|ring_on|answer_on|hangup_on|destroy_on|finished_on|q850_cause|q850_cause_string|stir_shaken_attest_level|max_call_length_min|address2|webhook_url|webhook_method|webhook_request_timeout|country|lerg|sip_connection|hotkey|batch_item|time_zone|call_back_url2?)$/;

const CASES: readonly [ReferenceFrame, FrameKind, Generation, Record<string, unknown>][] = [
  [CALL_INITIATED, 'call_state', 'newer', { state: 'init' }],
  [CALL_LIVE, 'call_state', 'newer', { state: 'live' }],
  [
    CALL_HANGUP,
    'call_state',
    'newer',
    { state: 'hangup', call: newChildLeg(newCall('in')), cause: NO_USER_RESPONSE },
  ],
  [CALL_DESTROYED, 'call_state', 'newer', { state: 'destroyed' }],
  [CALL_ANSWERED, 'call_answered', 'older', {}],
  [SMS_OUTBOUND_DELIVERED, 'sms_outbound', 'older', {}],
  [BALANCE_CALL_ASR, 'balance', 'older', {}],
];

/** Every key path of the reference frame, present in the simulated one with the same JSON type. */
function compare(
  reference: ReferenceFrame,
  frame: unknown,
): { missing: string[]; differing: string[] } {
  const simulated = shape(frame);
  const missing: string[] = [];
  const differing: string[] = [];
  for (const [path, type] of shape(JSON.parse(reference.wire))) {
    const got = simulated.get(path);
    if (got === undefined) {
      missing.push(path);
    } else if (got !== type && !EITHER_NULL.test(path)) {
      differing.push(`${path}: ${type} documented, ${got} simulated`);
    }
  }
  return { missing, differing };
}

describe('simulator frames have the shapes of the reference examples', () => {
  it.each(CASES.map((c) => [c[0].name, ...c] as const))(
    '%s',
    (_name, reference, kind, generation, options) => {
      expect(compare(reference, buildFrame(kind, generation, undefined, options))).toEqual({
        missing: [],
        differing: [],
      });
    },
  );

  it('AUTH_ACK, the acknowledgement the simulator sends on the WSS', async () => {
    const sim = new OpentactSimulator({ port: 0 });
    await sim.start();
    const ws = new WebSocket(sim.wssUrl);
    try {
      await once(ws, 'open');
      const ack = once(ws, 'message');
      ws.send(JSON.stringify({ type: 'auth', payload: sim.issueToken() }));
      const [data] = (await ack) as [Buffer];
      expect(compare(AUTH_ACK, JSON.parse(data.toString('utf8')))).toEqual({
        missing: [],
        differing: [],
      });
    } finally {
      ws.terminate();
      await sim.stop();
    }
  });
});
