/**
 * `npm run demo`: the whole flow on one machine. It starts the bundled Opentact simulator, a
 * webhook receiver that verifies every signature, and the bridge (all roles in this process),
 * subscribes the receiver, then plays a call, SMS and account scenario in both envelope
 * generations every few seconds. Redis: REDIS_URL, else 127.0.0.1:6379, else a private
 * redis-server on a free port when one is on the PATH.
 *
 * DEMO_DURATION_MS stops it by itself (used by the test that keeps this command working).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import pino from 'pino';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { DemoReceiver } from '../src/demo/demo-receiver';
import { OpentactSimulator } from '../src/simulator/opentact-simulator';
import { provideRedis, type ProvidedRedis } from './redis-provider';

const SCENARIOS = [
  'inbound-call',
  'outbound-sms',
  'inbound-sms',
  'balance',
  'call-answered',
  'tn-order',
  'unknown-kind',
] as const;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const durationMs = Number(process.env.DEMO_DURATION_MS ?? 0);
  const intervalMs = Number(process.env.DEMO_INTERVAL_MS ?? 4000);
  let redis: ProvidedRedis | undefined;
  let simulator: OpentactSimulator | undefined;
  let receiver: DemoReceiver | undefined;
  let app: INestApplication | undefined;
  let timer: NodeJS.Timeout | undefined;

  const shutdown = async (code: number): Promise<void> => {
    clearInterval(timer);
    await app?.close().catch(() => undefined);
    await receiver?.stop().catch(() => undefined);
    await simulator?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    redis = await provideRedis(process.env.REDIS_URL);
    out(`redis      ${redis.url}${redis.started ? ' (started for this demo)' : ''}`);

    simulator = new OpentactSimulator({ port: 0, controlPort: 0 });
    await simulator.start();
    out(
      `simulator  REST ${simulator.restUrl}  WSS ${simulator.wssUrl}  control ${simulator.controlUrl ?? '-'}`,
    );

    receiver = new DemoReceiver({
      onWebhook: (w) => {
        const data = JSON.stringify((w.body.data as Record<string, unknown> | undefined) ?? {});
        out(
          `webhook    ${w.verified ? 'signature ok ' : 'BAD SIGNATURE'} ${w.type.padEnd(24)} ${w.id}  ${data.length > 110 ? `${data.slice(0, 107)}...` : data}`,
        );
      },
    });
    await receiver.start();
    out(`receiver   ${receiver.url}`);

    const adminApiKey = randomBytes(24).toString('base64url');
    const config = loadConfig({
      APP_ROLE: 'all',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      OPENTACT_REST_URL: simulator.restUrl,
      OPENTACT_WSS_URL: simulator.wssUrl,
      OPENTACT_EMAIL: 'demo@opentact.local',
      OPENTACT_PASSWORD: 'demo-password',
      OPENTACT_SUBSCRIBE: 'call_state,call_flow,sms,balance,tn_order',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'otb-demo',
      ADMIN_API_KEY: adminApiKey,
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32,::1/128',
      DELIVERY_RETRY_SCHEDULE: '1s,5s,30s',
    });
    app = await createApp(config, pino({ level: config.logLevel }));
    await app.listen(0, '127.0.0.1');
    const apiUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    out(`bridge     ${apiUrl}  (OpenAPI ${apiUrl}/docs, admin key ${adminApiKey})`);
    out(`console    ${apiUrl}/console  (sign in with the admin key above)`);

    const created = await fetch(`${apiUrl}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, eventTypes: ['*'], description: 'demo receiver' }),
    });
    if (created.status !== 201) {
      throw new Error(
        `creating the demo subscription failed: ${created.status} ${await created.text()}`,
      );
    }
    const subscription = (await created.json()) as { id: string; secret: string };
    receiver.setSecret(subscription.secret);
    out(`subscribed ${subscription.id} -> ${receiver.url} for every event type\n`);

    let round = 0;
    const play = (): void => {
      const name = SCENARIOS[round % SCENARIOS.length];
      const generation = round % 2 === 0 ? 'newer' : 'older';
      const frames = simulator!.emitScenario(name, generation);
      out(`simulator  sent ${frames.length} frame(s): ${name} (${generation} envelope)`);
      round++;
    };
    await waitFor(
      () => simulator!.stats.authenticated > 0,
      15_000,
      'the bridge did not authenticate to the simulator',
    );
    play();
    timer = setInterval(play, intervalMs);
    if (durationMs > 0) {
      setTimeout(() => {
        const verified = receiver!.received.filter((w) => w.verified).length;
        out(
          `\ndemo done: ${receiver!.received.length} webhook(s) received, ${verified} with a valid signature`,
        );
        void shutdown(verified > 0 ? 0 : 1);
      }, durationMs);
    } else {
      out('(Ctrl-C to stop)');
    }
  } catch (error) {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await shutdown(1);
  }
}

async function waitFor(check: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(message);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

void main();
