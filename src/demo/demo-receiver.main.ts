import { DemoReceiver } from './demo-receiver';

/**
 * Stand-alone demo receiver (compose.yaml runs it next to the bridge). RECEIVER_SECRET is the
 * subscription's signing secret; without it every request is printed as unverified.
 */
async function main(): Promise<void> {
  const receiver = new DemoReceiver({
    port: Number(process.env.RECEIVER_PORT ?? 9000),
    host: process.env.RECEIVER_HOST ?? '0.0.0.0',
    secret: process.env.RECEIVER_SECRET || undefined,
    onWebhook: (w) =>
      process.stdout.write(
        `${new Date(w.receivedAt).toISOString()} ${w.verified ? 'verified  ' : 'UNVERIFIED'} ${w.type} ${w.id} attempt ${w.attempt}\n`,
      ),
  });
  await receiver.start();
  process.stdout.write(`demo receiver listening on ${receiver.url}\n`);
  const stop = (): void => void receiver.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
