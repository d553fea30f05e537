import { EventLog } from '../../../src/events/event-log';
import { QuarantineRepository } from '../../../src/events/quarantine.repository';
import { parseWebhookBody } from '../../../src/events/webhook-body';
import { OpentactConnection } from '../../../src/platform/opentact-connection.service';
import { AUTH_RESPONSE } from '../../fixtures/opentact-frames';
import {
  deletePrefix,
  startApp,
  type StartedApp,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { LoopbackOpentact } from '../../support/loopback-opentact';

/** Reference §4.10, byte for byte but for the timestamp and amount, which make each one distinct. */
function balanceFrame(i: number): string {
  const ms = String(i).padStart(3, '0');
  return `{
    "timestamp": "2022-07-04T16:47:39.${ms}Z",
    "message": "New balance is 873.06${ms}",
    "type": "balance",
    "source_action": "voice_charge_in",
    "payload": 873.06${ms}
}`;
}

/**
 * A balance frame that would be well formed but for one byte that is not UTF-8 (a lone
 * continuation byte). Decoded with replacement it would pass as an event: only a byte-level
 * check keeps it out of the log.
 */
const INVALID_UTF8 = ((): Buffer => {
  const [head, tail] = balanceFrame(999).split('873.06999"');
  return Buffer.concat([
    Buffer.from(`${head}873.06999 `),
    Buffer.from([0x80]),
    Buffer.from(`"${tail}`),
  ]);
})();
const BAD_AMOUNT = 873.06999;

describe('ingest: a text frame that is not UTF-8, then 20 balance frames', () => {
  let server: LoopbackOpentact;
  let app: StartedApp;
  const prefix = uniquePrefix('ingest-invalid-utf8');

  beforeAll(async () => {
    server = new LoopbackOpentact(() => JSON.stringify(AUTH_RESPONSE));
    await server.start();
    app = await startApp({
      APP_ROLE: 'ingest',
      OPENTACT_REST_URL: server.restUrl,
      OPENTACT_WSS_URL: server.wssUrl,
      OPENTACT_EMAIL: 'ops@example.com',
      OPENTACT_PASSWORD: 'loopback-password',
      OPENTACT_RECONNECT_BASE_MS: '50',
      OPENTACT_RECONNECT_MAX_MS: '100',
      QUEUE_PREFIX: prefix,
    });
    const connection = app.app.get(OpentactConnection);
    await waitFor(() => connection.isAuthenticated(), 10_000, 'authenticated');
    server.sendText(INVALID_UTF8);
    for (let i = 0; i < 20; i++) {
      server.sendText(balanceFrame(i));
    }
  });

  afterAll(async () => {
    await app.app.close();
    await server.stop();
    await deletePrefix(prefix);
  });

  it('keeps the link up and stores all 20 frames sent after it', async () => {
    const log = app.app.get(EventLog);
    const amounts = async (): Promise<number[]> =>
      (await log.readAfter(undefined, 1_000))
        .map((e) => parseWebhookBody(e.body).data as { amount?: unknown })
        .map((data) => data.amount)
        .filter((a): a is number => typeof a === 'number');
    const expected = Array.from({ length: 20 }, (_, i) =>
      Number(`873.06${String(i).padStart(3, '0')}`),
    );
    const stored = await waitFor(
      async () => {
        const got = await amounts();
        return expected.every((a) => got.includes(a)) ? got : undefined;
      },
      10_000,
      'the 20 balance events in the log',
    );
    expect(stored.filter((a) => a !== BAD_AMOUNT).sort()).toEqual(expected.sort());
    // The same socket carried everything: no reconnect, one connection ever.
    const connection = app.app.get(OpentactConnection);
    expect(server.connections).toBe(1);
    expect(connection.status().reconnectCount).toBe(0);
    expect(connection.isAuthenticated()).toBe(true);
  });

  it('quarantines the frame with its bytes, and does not log it as an event', async () => {
    const quarantine = app.app.get(QuarantineRepository);
    const page = await waitFor(
      async () => {
        const p = await quarantine.list(0, 10);
        return p.total >= 1 ? p : undefined;
      },
      5_000,
      'the invalid frame in quarantine',
    );
    expect(page.items.map((item) => Buffer.from(item.rawBase64, 'base64'))).toContainEqual(
      INVALID_UTF8,
    );
    const logged = (await app.app.get(EventLog).readAfter(undefined, 1_000)).map(
      (e) => (parseWebhookBody(e.body).data as { amount?: unknown }).amount,
    );
    expect(logged).not.toContain(BAD_AMOUNT);
    expect(logged).toHaveLength(20);
  });
});
