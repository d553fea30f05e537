import { OpentactConnection } from '../../src/platform/opentact-connection.service';
import {
  CALL_DESTROYED_OLDER,
  CALL_HANGUP_OLDER,
  CALL_INITIATED_OLDER,
  CALL_LIVE_OLDER,
  CALL_RINGING_OLDER,
} from '../fixtures/opentact-frames';
import {
  AUTH_ACK,
  AUTH_ACK_FAILED_JWT_EXPIRED,
  AUTH_ACK_NOT_SUCCESSFUL,
  AUTH_ACK_NOT_SUCCESSFUL_BARE,
  AUTH_ACK_NULL_SLOTS,
  BALANCE_CALL_ASR,
  BALANCE_VOICE_CHARGE_IN,
  balanceInNewerEnvelope,
  CALL_ANSWERED,
  CALL_DESTROYED,
  CALL_HANGUP,
  CALL_INITIATED,
  CALL_LIFECYCLE_A_LEG_HANGUP,
  CALL_LIFECYCLE_INIT,
  CALL_LIFECYCLE_RINGING,
  CALL_LIVE,
  inNewerEnvelope,
  olderFrame,
  PRINTED_FRAMES,
  type ReferenceFrame,
  SMS_OUTBOUND_DELIVERED,
  SMS_OUTBOUND_NATIONAL_TO,
  SMS_OUTBOUND_SENT,
  SMS_OUTBOUND_SENT_SAME_TIMES,
  SMS_OUTBOUND_STRING_TN,
  SMS_RECEIPT_DELIVERED,
  SUBSCRIPTION_LIST_BARE,
  SUBSCRIPTION_LIST_WRAPPED,
} from '../fixtures/opentact-reference-frames';
import { api } from '../support/delivery-app';
import { sleep, waitFor } from '../support/wait';
import { type PublishedEvent, ReferenceLink } from '../support/reference-link';

/**
 * Opentact's documented behaviour (opentact.md) is the contract: every example frame it prints
 * goes through the real WSS ingest path as the exact bytes printed (completed where the available
 * copy is cut, see the fixtures), and the events, ids and fields the bridge publishes are checked,
 * on the webhook a real receiver got and on `GET /v1/events/:id`. Every documented sequence is
 * sent as a sequence. Where the reference only infers ([INF]), both possibilities are sent.
 *
 * Numbers follow the documented rule for the bridge: E.164 only where the digits carry a country
 * code (11 digits starting with 1 for NANP, or a `+`), otherwise as received, and the same
 * spelling for `tn`, `from` and `to`.
 */

const HASHED_ID = /^h_[0-9a-f]{32}$/;

const links: ReferenceLink[] = [];

async function open(name: string, ack: ReferenceFrame = AUTH_ACK): Promise<ReferenceLink> {
  const link = await ReferenceLink.open(name, ack.wire);
  links.push(link);
  return link;
}

afterEach(async () => {
  await Promise.all(links.splice(0).map((link) => link.close()));
});

/**
 * The events published, each checked three ways: the log's order is the socket's, every event was
 * delivered once as a webhook whose `webhook-id` is the event id and whose body is the event, and
 * `GET /v1/events/:id` answers that same event.
 */
async function publish(
  link: ReferenceLink,
  ...frames: ReferenceFrame[]
): Promise<PublishedEvent[]> {
  link.send(...frames.map((frame) => frame.wire));
  const events = await link.settle();
  const hooks = link.webhooks();
  expect(hooks.map((hook) => hook.webhookId).sort()).toEqual(events.map((e) => e.id).sort());
  for (const event of events) {
    const hook = hooks.find((h) => h.webhookId === event.id);
    expect(hook?.body).toMatchObject({ id: event.id, type: event.type, data: event.data });
    const looked = await link.event(event.id);
    expect(looked.status).toBe(200);
    expect(looked.body).toMatchObject({ id: event.id, type: event.type, data: event.data });
  }
  return events;
}

/** The bridge's status as an operator reads it. */
async function linkStatus(link: ReferenceLink): Promise<{
  state: string;
  connections: { authenticated: boolean; state: string }[];
}> {
  const reply = await api<{
    opentact: { state: string; connections: { authenticated: boolean; state: string }[] };
  }>(link.bridge, 'GET', '/v1/status');
  expect(reply.status).toBe(200);
  return reply.body.opentact;
}

describe('conformance: the WSS authentication of §2', () => {
  it('is authenticated by the §2.3 acknowledgement as printed, which is no event', async () => {
    const link = await open('conf-auth');
    const status = await linkStatus(link);
    expect(status.state).toBe('open');
    expect(status.connections.map((c) => c.authenticated)).toEqual([true]);
    expect(link.sim.stats.authAttempts).toBe(1);
    // The ack went out before anything else; it produced no event.
    await link.settle();
    expect(await link.logged()).toEqual([]);
  });

  it('is authenticated by the acknowledgement with every null entity slot, and then reads events', async () => {
    const link = await open('conf-auth-slots', AUTH_ACK_NULL_SLOTS);
    expect((await linkStatus(link)).state).toBe('open');
    const [event] = await publish(link, BALANCE_VOICE_CHARGE_IN);
    expect(event.type).toBe('account.balance_changed');
  });

  // A refusal is undocumented (§2.3 "Failure: no example"); these are worded like the documented
  // ack. None of them may ever show as a login.
  it.each([
    ['"- failed auth: jwt expired" with a connection payload', AUTH_ACK_FAILED_JWT_EXPIRED],
    ['"- auth not successful" with a connection payload', AUTH_ACK_NOT_SUCCESSFUL],
    ['"- auth not successful" without a payload', AUTH_ACK_NOT_SUCCESSFUL_BARE],
  ])('never shows a failed login as authenticated: %s', async (_name, ack) => {
    const link = await ReferenceLink.refused('conf-auth-failed', ack.wire);
    links.push(link);
    await waitFor(() => link.sim.stats.authAttempts >= 1, 10_000, 'the auth frame');
    const until = Date.now() + 1_500;
    while (Date.now() < until) {
      const status = await linkStatus(link);
      expect(status.connections.filter((c) => c.authenticated)).toEqual([]);
      expect(status.state).not.toBe('open');
      expect(link.bridge.app.get(OpentactConnection).isAuthenticated()).toBe(false);
      await sleep(100);
    }
    expect(link.bridge.app.get(OpentactConnection).status().authFailures).toBeGreaterThanOrEqual(1);
    const ready = await fetch(`${link.bridge.url}/health/ready`);
    expect(ready.status).not.toBe(200);
  });
});

describe('conformance: every printed example frame (§2.3-§4.10)', () => {
  it('publishes each printed event frame once, as its documented kind, in the order sent', async () => {
    const link = await open('conf-printed');
    const frames = PRINTED_FRAMES.filter((frame) => frame !== AUTH_ACK);
    const events = await publish(link, ...frames);
    expect(events.map((e) => e.type)).toEqual([
      'call.initiated',
      'call.live',
      'call.answered',
      'call.hangup',
      'call.destroyed',
      'sms.outbound',
      'account.balance_changed',
      'account.balance_changed',
    ]);
    // The same bytes again (a replay after a reconnect) publish nothing new.
    const again = await publish(link, ...frames);
    expect(again.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('§4.1 Call Initiated: the envelope uuid is the id, the call its fields', async () => {
    const [event] = await publish(await open('conf-init'), CALL_INITIATED);
    expect(event).toMatchObject({
      id: '1ccf8c99-a5f2-41d4-8183-f56d2035f3fd',
      type: 'call.initiated',
      occurredAt: '2024-02-19T16:24:46.183Z',
    });
    expect(event.data).toMatchObject({
      callId: '3b206fb6-a5b7-4d62-8a3a-02d9e188ad38',
      direction: 'inbound',
      state: 'init',
      duration: 1,
      from: '+18389999168',
      to: '+18382049000',
      tn: '+18382049000',
      initOn: '2024-02-19T16:24:45.982Z',
      sipControlAppId: '03302770-4a53-438e-adb6-7a3062d61547',
      accountId: '58699aff-b3dd-46b6-b428-029cde3368a4',
      refId: '3b206fb6-a5b7-4d62-8a3a-02d9e188ad38',
      message: 'CallSCA in +18389999168 > 18382049000 - init',
    });
  });

  it('§4.3 Call Live', async () => {
    const [event] = await publish(await open('conf-live'), CALL_LIVE);
    expect(event).toMatchObject({
      id: 'b233214b-ffdc-4281-b1e4-1e3091ccc5ab',
      type: 'call.live',
      occurredAt: '2024-02-20T16:41:36.253Z',
    });
    expect(event.data).toMatchObject({
      callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
      direction: 'inbound',
      state: 'live',
      from: '+18389999168',
      to: '+18382049000',
      tn: '+18382049000',
      answerOn: '2024-02-20T16:41:36.202Z',
      thread: 'f2fc43433c39837ba33497b10910cf76',
    });
  });

  it('§4.5 Call Answered (older envelope): a derived id, the command and the ringing call', async () => {
    const [event] = await publish(await open('conf-answered'), CALL_ANSWERED);
    expect(event.id).toMatch(HASHED_ID);
    expect(event).toMatchObject({ type: 'call.answered', occurredAt: '2022-07-04T16:44:53.554Z' });
    expect(event.data).toMatchObject({
      callId: '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
      command: 'Answer',
      success: true,
      reason: 'Call answered',
      state: 'ringing',
      from: '+14158531285',
      to: '+18382050010',
      tn: '+18382050010',
      initOn: '2022-07-04T16:44:49.887Z',
      ringOn: '2022-07-04T16:44:49.889Z',
      accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
    });
  });

  it('§4.6 Call Hangup of a child leg: its parent, the cause, a SIP user kept as sent', async () => {
    const [event] = await publish(await open('conf-hangup'), CALL_HANGUP);
    expect(event).toMatchObject({
      id: '16587a24-492f-4baa-bbd2-bcb73be0302d',
      type: 'call.hangup',
    });
    expect(event.data).toMatchObject({
      callId: '1c7091a5-ba1f-46a2-bf06-b1137cb6b683',
      direction: 'outbound',
      state: 'hangup',
      // "18389999168": 11 digits with the NANP country code, so E.164.
      from: '+18389999168',
      to: 'soupra_cool_743_gmail_com_97176442681235292623',
      tn: '+18382049000',
      parentCallId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
      q850Cause: 18,
      q850CauseString: 'NO_USER_RESPONSE',
      hangupOn: '2024-02-20T16:41:37.088Z',
    });
  });

  it('§4.7 Call Destroyed', async () => {
    const [event] = await publish(await open('conf-destroyed'), CALL_DESTROYED);
    expect(event).toMatchObject({
      id: '2c215731-f634-4365-8fec-df14a2078254',
      type: 'call.destroyed',
      occurredAt: '2024-02-20T16:41:44.795Z',
    });
    expect(event.data).toMatchObject({
      callId: 'c7aa8c03-87d6-403d-8287-2211a1974fe3',
      state: 'destroyed',
      duration: 10,
      q850Cause: 16,
      q850CauseString: 'NORMAL_CLEARING',
      destroyOn: '2024-02-20T16:41:44.718Z',
      tn: '+18382049000',
    });
  });

  it('§4.9 SMS: the delivered outbound message with one spelling for tn, from and to', async () => {
    const [event] = await publish(await open('conf-sms'), SMS_OUTBOUND_DELIVERED);
    expect(event.id).toMatch(HASHED_ID);
    expect(event).toMatchObject({ type: 'sms.outbound', occurredAt: '2022-07-04T17:11:45.363Z' });
    expect(event.data).toMatchObject({
      messageId: '11ad513b-4017-4592-a8e1-0f47b6817973',
      direction: 'outbound',
      smsType: 'smso',
      state: 'success',
      delivered: true,
      text: 'Hello world',
      from: '+18382050008',
      to: '+14158531285',
      tn: '+18382050008',
      thread: '6c7229a4d21945d0cfabe334803064a5',
      accountId: '9df81deb-afa6-436b-8ce9-af54b3e502e4',
    });
  });

  it('§4.10 Balance Changed: the bare-number payload, its source_action and its time', async () => {
    const events = await publish(
      await open('conf-balance'),
      BALANCE_VOICE_CHARGE_IN,
      BALANCE_CALL_ASR,
    );
    expect(events.map((e) => e.id)).toEqual([
      expect.stringMatching(HASHED_ID),
      expect.stringMatching(HASHED_ID),
    ]);
    expect(events.map((e) => [e.type, e.occurredAt, e.data])).toEqual([
      [
        'account.balance_changed',
        '2022-07-04T16:47:39.665Z',
        { amount: 873.0604, sourceAction: 'voice_charge_in', message: 'New balance is 873.0604' },
      ],
      [
        'account.balance_changed',
        '2022-07-04T16:45:15.720Z',
        { amount: 873.06055, sourceAction: 'call_asr', message: 'New balance is 873.06055' },
      ],
    ]);
  });

  it('quarantines each example as the available copy cuts it, with its bytes, and stays up', async () => {
    const link = await open('conf-cut');
    const cut = PRINTED_FRAMES.filter((frame) => frame.completion !== '' && frame !== AUTH_ACK);
    link.send(...cut.map((frame) => frame.printed));
    await link.settle();
    expect(await link.logged()).toEqual([]);
    const reply = await api<{ items: { rawBase64: string }[] }>(
      link.bridge,
      'GET',
      '/v1/quarantine?limit=50',
    );
    expect(reply.status).toBe(200);
    const kept = reply.body.items.map((item) =>
      Buffer.from(item.rawBase64, 'base64').toString('utf8'),
    );
    expect(kept.sort()).toEqual(cut.map((frame) => frame.printed).sort());
    // The link is still up: the next frame is read.
    const [event] = await publish(link, BALANCE_CALL_ASR);
    expect(event.type).toBe('account.balance_changed');
  });
});

describe('conformance: one outbound SMS is two events (§4.9)', () => {
  const pair = (events: PublishedEvent[]) =>
    events.map((e) => [e.type, e.data.messageId, e.data.state, e.data.delivered]);
  const MESSAGE = '11ad513b-4017-4592-a8e1-0f47b6817973';

  it('sent (success, not delivered) then delivered: two events, two ids, in that order', async () => {
    const events = await publish(
      await open('conf-pair'),
      SMS_OUTBOUND_SENT,
      SMS_OUTBOUND_DELIVERED,
    );
    expect(pair(events)).toEqual([
      ['sms.outbound', MESSAGE, 'success', false],
      ['sms.outbound', MESSAGE, 'success', true],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
    expect(events.map((e) => e.occurredAt)).toEqual([
      '2022-07-04T17:11:41.120Z',
      '2022-07-04T17:11:45.363Z',
    ]);
  });

  it('[INF] two events when only the delivered flag tells them apart', async () => {
    const events = await publish(
      await open('conf-pair-flag'),
      SMS_OUTBOUND_SENT_SAME_TIMES,
      SMS_OUTBOUND_DELIVERED,
    );
    expect(pair(events)).toEqual([
      ['sms.outbound', MESSAGE, 'success', false],
      ['sms.outbound', MESSAGE, 'success', true],
    ]);
  });

  it('[INF] two events when the delivery comes as an smsr receipt', async () => {
    const events = await publish(
      await open('conf-pair-smsr'),
      SMS_OUTBOUND_SENT,
      SMS_RECEIPT_DELIVERED,
    );
    expect(pair(events)).toEqual([
      ['sms.outbound', MESSAGE, 'success', false],
      ['sms.updated', MESSAGE, 'success', true],
    ]);
  });

  it('[INF] two events in the newer envelope, each with its envelope uuid as id', async () => {
    const sent = inNewerEnvelope(SMS_OUTBOUND_SENT, '6f0c2a91-3d4b-4e58-9a7c-1b2d3e4f5a60');
    const delivered = inNewerEnvelope(
      SMS_OUTBOUND_DELIVERED,
      '7a1d3b02-4e5c-4f69-8b8d-2c3e4f5a6b71',
    );
    const events = await publish(await open('conf-pair-newer'), sent, delivered);
    expect(events.map((e) => e.id)).toEqual([
      '6f0c2a91-3d4b-4e58-9a7c-1b2d3e4f5a60',
      '7a1d3b02-4e5c-4f69-8b8d-2c3e4f5a6b71',
    ]);
    expect(pair(events)).toEqual([
      ['sms.outbound', MESSAGE, 'success', false],
      ['sms.outbound', MESSAGE, 'success', true],
    ]);
  });

  it('each half once: the pair sent again publishes nothing new', async () => {
    const link = await open('conf-pair-replay');
    const first = await publish(link, SMS_OUTBOUND_SENT, SMS_OUTBOUND_DELIVERED);
    const again = await publish(link, SMS_OUTBOUND_SENT, SMS_OUTBOUND_DELIVERED);
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(link.webhooks()).toHaveLength(2);
  });
});

describe('conformance: numbers with and without + (§3.3, §10.18)', () => {
  it('[INF] tn as a JSON string and from with +: the same spelling as the printed frame', async () => {
    const [event] = await publish(await open('conf-tn-string'), SMS_OUTBOUND_STRING_TN);
    expect(event.data).toMatchObject({
      from: '+18382050008',
      to: '+14158531285',
      tn: '+18382050008',
    });
  });

  it('[INF] a 10-digit national number carries no country code: kept as received', async () => {
    const [event] = await publish(await open('conf-national'), SMS_OUTBOUND_NATIONAL_TO);
    expect(event.data).toMatchObject({ from: '+18382050008', to: '4158531285' });
  });
});

describe('conformance: a call from init to destroyed (§4.1-§4.7)', () => {
  it('newer envelope: init, ringing, live, the child leg and the A-leg hanging up, destroyed', async () => {
    const events = await publish(
      await open('conf-call'),
      CALL_LIFECYCLE_INIT,
      CALL_LIFECYCLE_RINGING,
      CALL_LIVE,
      CALL_HANGUP,
      CALL_LIFECYCLE_A_LEG_HANGUP,
      CALL_DESTROYED,
    );
    const A_LEG = 'c7aa8c03-87d6-403d-8287-2211a1974fe3';
    const CHILD = '1c7091a5-ba1f-46a2-bf06-b1137cb6b683';
    expect(events.map((e) => [e.type, e.data.callId, e.data.state])).toEqual([
      ['call.initiated', A_LEG, 'init'],
      ['call.ringing', A_LEG, 'ringing'],
      ['call.live', A_LEG, 'live'],
      ['call.hangup', CHILD, 'hangup'],
      ['call.hangup', A_LEG, 'hangup'],
      ['call.destroyed', A_LEG, 'destroyed'],
    ]);
    expect(events.map((e) => e.id)).toEqual([
      '5d2e9a41-7c3b-4f06-8e1d-2b4a6c8e0f13',
      '8e4b1f27-3a6c-4d95-b0e8-7c1d2f3a4b5c',
      'b233214b-ffdc-4281-b1e4-1e3091ccc5ab',
      '16587a24-492f-4baa-bbd2-bcb73be0302d',
      '9f6a3c12-4b7d-4e08-a1c5-3d2e4f6a8b90',
      '2c215731-f634-4365-8fec-df14a2078254',
    ]);
    expect(events[1].data).toMatchObject({ ringOn: '2024-02-20T16:41:34.877Z' });
    expect(events[4].data).toMatchObject({ hangupOn: '2024-02-20T16:41:44.650Z', q850Cause: 16 });
  });

  it('[INF] older envelope (§3.2, payload = the call): the same five states, derived ids', async () => {
    const events = await publish(
      await open('conf-call-older'),
      olderFrame('CALL_INITIATED_OLDER', CALL_INITIATED_OLDER),
      olderFrame('CALL_RINGING_OLDER', CALL_RINGING_OLDER),
      olderFrame('CALL_LIVE_OLDER', CALL_LIVE_OLDER),
      olderFrame('CALL_HANGUP_OLDER', CALL_HANGUP_OLDER),
      olderFrame('CALL_DESTROYED_OLDER', CALL_DESTROYED_OLDER),
    );
    expect(events.map((e) => [e.type, e.data.callId, e.data.from, e.data.to, e.data.tn])).toEqual(
      ['call.initiated', 'call.ringing', 'call.live', 'call.hangup', 'call.destroyed'].map(
        (type) => [
          type,
          '6a1ffcf8-abaf-422a-9bfc-ec1349a2b81c',
          '+14158531285',
          '+18382050010',
          '+18382050010',
        ],
      ),
    );
    for (const event of events) {
      expect(event.id).toMatch(HASHED_ID);
    }
  });
});

describe('conformance: balance changes (§4.10)', () => {
  it('one event per change, in the order of the changes; the same change twice is one', async () => {
    const link = await open('conf-balance-seq');
    const events = await publish(link, BALANCE_CALL_ASR, BALANCE_VOICE_CHARGE_IN, BALANCE_CALL_ASR);
    expect(events.map((e) => [e.data.amount, e.data.sourceAction])).toEqual([
      [873.06055, 'call_asr'],
      [873.0604, 'voice_charge_in'],
    ]);
  });

  it('[INF] the newer envelope: the envelope uuid is the id, the amount still the payload', async () => {
    const events = await publish(
      await open('conf-balance-newer'),
      balanceInNewerEnvelope(BALANCE_CALL_ASR, '8b2e4c13-5f6d-4a7a-9c9e-3d4f5a6b7c82'),
      balanceInNewerEnvelope(BALANCE_VOICE_CHARGE_IN, '9c3f5d24-6a7e-4b8b-8daf-4e5a6b7c8d93'),
    );
    expect(events.map((e) => [e.id, e.type, e.data.amount, e.data.sourceAction])).toEqual([
      ['8b2e4c13-5f6d-4a7a-9c9e-3d4f5a6b7c82', 'account.balance_changed', 873.06055, 'call_asr'],
      [
        '9c3f5d24-6a7e-4b8b-8daf-4e5a6b7c8d93',
        'account.balance_changed',
        873.0604,
        'voice_charge_in',
      ],
    ]);
  });
});

describe('conformance: the subscription list of §5.1, in either wrapper', () => {
  /** What the bridge asked of Opentact's subscription API after reading the printed list. */
  async function requestsAfterReading(list: string): Promise<string[]> {
    const link = await ReferenceLink.open('conf-sublist', AUTH_ACK.wire, {
      subscriptionList: list,
      subscribe: 'call_state,call_record,auth',
    });
    links.push(link);
    const connection = link.bridge.app.get(OpentactConnection);
    await waitFor(
      () =>
        connection.status().subscriptions.state !== 'pending' &&
        connection.status().subscriptions.lastEnsuredAt,
      10_000,
      'the subscriptions to be ensured',
    );
    expect(connection.status().subscriptions).toMatchObject({ state: 'ok', failures: 0 });
    // A request names its type in the body, or (re-activating, removing) a listed entry by uuid.
    const LISTED: Record<string, string> = {
      'dcfc6772-bacf-4932-b1fe-8ac63c5a7b1a': 'call_record',
      '7099cb76-92a6-4ed4-b695-d1c4edd66b16': 'auth',
    };
    return (link.rest?.subscriptionRequests ?? [])
      .filter((r) => r.method !== 'GET')
      .map((r) => {
        const listed = Object.keys(LISTED).find((uuid) => r.path.includes(uuid));
        const type = typeof r.body?.type === 'string' ? r.body.type : LISTED[listed ?? ''];
        return `${r.method} ${type ?? r.path}`;
      })
      .sort();
  }

  it('[INF] reads the bare array and the { success, payload } wrapper alike', async () => {
    const bare = await requestsAfterReading(SUBSCRIPTION_LIST_BARE);
    const wrapped = await requestsAfterReading(SUBSCRIPTION_LIST_WRAPPED);
    expect(wrapped).toEqual(bare);
    // call_state is not listed; call_record is inactive and auth lapsed in 2023 (§5.1): neither
    // delivers, so each of the three is asked for.
    for (const type of ['call_state', 'call_record', 'auth']) {
      expect(bare.some((request) => request.endsWith(` ${type}`))).toBe(true);
    }
  });
});
