import { generateSecret, WebhookSigner } from '../webhook-security/webhook-signer';
import { DemoReceiver } from './demo-receiver';

describe('DemoReceiver', () => {
  const secret = generateSecret();
  let receiver: DemoReceiver;

  afterEach(async () => {
    await receiver.stop();
  });

  async function post(id: string, secrets = [secret]): Promise<number> {
    const body = JSON.stringify({ id, type: 'sms.inbound', data: {} });
    const timestampSec = Math.floor(Date.now() / 1000);
    const res = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'webhook-id': id,
        'webhook-timestamp': String(timestampSec),
        'webhook-signature': new WebhookSigner().sign({ msgId: id, timestampSec, body, secrets }),
      },
      body,
    });
    return res.status;
  }

  it('answers 204 to a signed webhook and 401 to a badly signed one', async () => {
    receiver = new DemoReceiver({ secret });
    await receiver.start();
    expect(await post('evt_1')).toBe(204);
    expect(await post('evt_2', [generateSecret()])).toBe(401);
    expect(receiver.counts).toEqual({ requests: 2, verified: 1, refused: 1 });
  });

  it('flaky: refuses the first attempt of each webhook with 503, accepts the retry', async () => {
    receiver = new DemoReceiver({ secret, mode: 'flaky' });
    await receiver.start();
    expect(await post('evt_1')).toBe(503);
    expect(await post('evt_2')).toBe(503);
    expect(await post('evt_1')).toBe(204);
    expect(receiver.received.map((w) => [w.id, w.attempt, w.status])).toEqual([
      ['evt_1', 1, 503],
      ['evt_2', 1, 503],
      ['evt_1', 2, 204],
    ]);
  });

  it('down: answers 500 to everything until its mode changes', async () => {
    receiver = new DemoReceiver({ secret, mode: 'down' });
    await receiver.start();
    expect(await post('evt_1')).toBe(500);
    expect(await post('evt_1')).toBe(500);
    receiver.mode = 'ok';
    expect(await post('evt_1')).toBe(204);
    expect(receiver.counts.refused).toBe(2);
  });

  it('keeps at most the last 1,000 webhooks', async () => {
    receiver = new DemoReceiver({ secret });
    await receiver.start();
    for (let i = 0; i < 1_005; i++) {
      await post(`evt_${i}`);
    }
    expect(receiver.received).toHaveLength(1_000);
    expect(receiver.received[0].id).toBe('evt_5');
    expect(receiver.counts.requests).toBe(1_005);
  });
});
