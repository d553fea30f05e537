import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import { BALANCE_NEWER } from '../../fixtures/opentact-frames';
import {
  api,
  createSubscription,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForIdle,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import {
  type ProgrammableReceiver,
  type RecordedRequest,
  startReceivers,
} from '../../support/webhook-receivers';

/** Envelope uuids no HTTP header carries as they are, each with its own balance amount. */
const BAD_IDS: [string, string, number][] = [
  ['a leading space', ' 6f708192-a3b4-4c56-97e8-f90a1b2c3d4e', 1.01],
  ['a trailing tab', '6f708192-a3b4-4c56-97e8-f90a1b2c3d4e\t', 1.02],
  ['CR/LF', '6f708192\r\nX-Injected: 1', 1.03],
  ['a NUL', '6f708192\u0000a3b4', 1.04],
  ['Latin-1 letters', 'évènement-6f708192', 1.05],
  ['characters past Latin-1', '事件-6f708192', 1.07],
  ['an over-long id', 'x'.repeat(300), 1.06],
];

interface Body {
  id: string;
  raw: { uuid?: unknown };
}

describe('event ids outside what a header and the signature survive', () => {
  const prefix = uniquePrefix('event-ids');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receiver: ProgrammableReceiver;
  let secret: string;

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    [receiver] = await startReceivers(1, { status: 200 });
    const subscription = await createSubscription(bridge, {
      url: receiver.url(),
      eventTypes: ['account.*'],
    });
    secret = subscription.secret;
    await waitForRegistry(bridge, [subscription.id]);
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
  });

  function forUuid(uuid: string): RecordedRequest[] {
    return receiver.requests.filter((r) => (JSON.parse(r.body) as Body).raw.uuid === uuid);
  }

  it('keeps a uuid of visible ASCII as the id, punctuation and all, and it verifies', async () => {
    const uuid = `6f708192!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~a3b4`;
    sim.emit({ ...BALANCE_NEWER, uuid, payload: { balance: 2.01 } });
    const [request] = await waitFor(
      () => {
        const got = forUuid(uuid);
        return got.length > 0 ? got : undefined;
      },
      10_000,
      'the event with punctuation in its uuid',
    );
    verifyWithBothLibraries(secret, request);
    expect(request.headers['webhook-id']).toBe(uuid);
    expect((JSON.parse(request.body) as Body).id).toBe(uuid);
  });

  it.each(BAD_IDS)(
    'delivers an event whose uuid has %s under an id the standardwebhooks library verifies',
    async (_, uuid, amount) => {
      const frame = { ...BALANCE_NEWER, uuid, payload: { balance: amount } };
      sim.emit(frame);
      const [request] = await waitFor(
        () => {
          const got = forUuid(uuid);
          return got.length > 0 ? got : undefined;
        },
        10_000,
        `the event with uuid ${JSON.stringify(uuid)}`,
      );
      verifyWithBothLibraries(secret, request);
      const body = JSON.parse(request.body) as Body;
      expect(request.headers['webhook-id']).toBe(body.id);
      expect(body.id).toMatch(/^u_[0-9a-f]{32}$/);
      // The admin API finds the event under that id, with the uuid as sent in raw.
      const stored = await api<Body>(bridge, 'GET', `/v1/events/${body.id}`);
      expect(stored.status).toBe(200);
      expect(stored.body.raw.uuid).toBe(uuid);

      // The same frame again is the same event: deduplicated, not delivered twice. Frames are
      // ingested in order, so once a marker sent after it has arrived, the repeat was handled.
      sim.emit(frame);
      const marker = `marker-${amount}`;
      sim.emit({ ...BALANCE_NEWER, uuid: marker, payload: { balance: amount + 100 } });
      await waitFor(() => forUuid(marker).length > 0, 10_000, 'the marker event');
      await waitForIdle(bridge);
      expect(forUuid(uuid)).toHaveLength(1);
    },
  );
});
