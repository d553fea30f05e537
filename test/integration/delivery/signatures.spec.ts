import { randomBytes } from 'node:crypto';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type { RotateSecretResponseDto } from '../../../src/subscriptions/dto/subscription-response.dto';
import { SubscriptionRegistry } from '../../../src/subscriptions/subscription-registry.service';
import {
  api,
  createSubscription,
  getSubscription,
  startBridge,
  startSimulator,
  verifyWithBothLibraries,
  waitForRegistry,
} from '../../support/delivery-app';
import { deletePrefix, type StartedApp, uniquePrefix, waitFor } from '../../support/harness';
import {
  ProgrammableReceiver,
  type RecordedRequest,
  startReceivers,
} from '../../support/webhook-receivers';

/** The rotation overlap, short enough to watch the old secret stop signing. */
const OVERLAP_SECONDS = 2;

function signatures(request: RecordedRequest): string[] {
  return (request.headers['webhook-signature'] ?? '').split(' ');
}

describe('delivery: Standard Webhooks signatures, checked with standardwebhooks and svix', () => {
  const prefix = uniquePrefix('delivery-signatures');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receivers: ProgrammableReceiver[];

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix, {
      SECRET_ROTATION_OVERLAP_SECONDS: String(OVERLAP_SECONDS),
    });
    receivers = await startReceivers(2, { status: 200 });
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await Promise.all((receivers ?? []).map((r) => r.stop()));
    await deletePrefix(prefix);
  });

  /** Emits one balance event and returns the one request each receiver got for it. */
  async function deliverOne(count: number): Promise<RecordedRequest[]> {
    const [frame] = sim.emitScenario('balance', 'newer');
    const id = frame.uuid as string;
    return waitFor(
      () => {
        const got = receivers.slice(0, count).map((r) => r.forWebhook(id));
        return got.every((list) => list.length === 1) ? got.map((list) => list[0]) : undefined;
      },
      10_000,
      `event ${id} at ${count} receivers`,
    );
  }

  it('signs with the generated secret, a brought one, and both secrets during a rotation', async () => {
    const generated = await createSubscription(bridge, {
      url: receivers[0].url(),
      eventTypes: ['account.*'],
    });
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const brought = `whsec_${randomBytes(32).toString('base64')}`;
    const own = await createSubscription(bridge, {
      url: receivers[1].url(),
      eventTypes: ['*'],
      secret: brought,
    });
    expect(JSON.stringify(own)).toContain(brought);
    await waitForRegistry(bridge, [generated.id, own.id]);

    const [first, second] = await deliverOne(2);
    verifyWithBothLibraries(generated.secret, first);
    verifyWithBothLibraries(brought, second);
    expect(signatures(first)).toHaveLength(1);
    // The check has teeth: another secret, or one changed byte of the body, is refused by both.
    expect(() => verifyWithBothLibraries(brought, first)).toThrow();
    expect(() =>
      verifyWithBothLibraries(generated.secret, { ...first, body: first.body.replace('{', '{ ') }),
    ).toThrow();

    // Rotation: the new secret signs, and the old one keeps signing for the overlap.
    const rotated = await api<RotateSecretResponseDto>(
      bridge,
      'POST',
      `/v1/subscriptions/${generated.id}/rotate-secret`,
    );
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret;
    expect(newSecret).not.toBe(generated.secret);
    const shown = await getSubscription(bridge, generated.id);
    expect(shown.previousSecrets).toHaveLength(1);
    expect(shown.previousSecrets[0].expiresAt).toBe(rotated.body.previousSecretExpiresAt);
    expect(JSON.stringify(shown)).not.toContain(newSecret);
    // The fan-out signs from its snapshot, which learns of the rotation a moment later.
    const registry = bridge.app.get(SubscriptionRegistry);
    await waitFor(
      async () =>
        (await registry.findEnabled(generated.id))?.subscription.secrets[0]?.secret === newSecret,
      5_000,
      'the fan-out to hold the rotated secret',
    );

    const [during] = await deliverOne(1);
    expect(signatures(during)).toHaveLength(2);
    verifyWithBothLibraries(newSecret, during);
    verifyWithBothLibraries(generated.secret, during);
    // Each signature on its own: one per secret, the new one first.
    const [newSig, oldSig] = signatures(during);
    verifyWithBothLibraries(newSecret, withSignature(during, newSig));
    verifyWithBothLibraries(generated.secret, withSignature(during, oldSig));
    expect(() =>
      verifyWithBothLibraries(generated.secret, withSignature(during, newSig)),
    ).toThrow();

    // Once the overlap is over only the new secret signs.
    const expiresAt = Date.parse(rotated.body.previousSecretExpiresAt);
    await waitFor(() => Date.now() > expiresAt + 50, OVERLAP_SECONDS * 1000 + 2_000, 'overlap end');
    const [after] = await deliverOne(1);
    expect(signatures(after)).toHaveLength(1);
    verifyWithBothLibraries(newSecret, after);
    expect(() => verifyWithBothLibraries(generated.secret, after)).toThrow();
    expect((await getSubscription(bridge, generated.id)).previousSecrets).toHaveLength(0);
  });
});

function withSignature(request: RecordedRequest, signature: string): RecordedRequest {
  return { ...request, headers: { ...request.headers, 'webhook-signature': signature } };
}
