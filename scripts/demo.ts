/**
 * `npm run demo`: the whole flow on one machine. It starts the bundled Opentact simulator, a
 * webhook receiver that verifies every signature, and the bridge (all roles in this process),
 * subscribes the receiver, then plays a call, SMS and account scenario in both envelope
 * generations every few seconds. Redis: REDIS_URL, else 127.0.0.1:6379, else a private
 * redis-server on a free port when one is on the PATH.
 *
 * The unhappy path too: a flaky endpoint (subscribed to SMS) refuses each first attempt and gets
 * the retry; an endpoint that is down (subscribed to balance changes) lets its delivery die, then
 * comes back and the dead delivery is replayed. Ctrl-C (or DEMO_DURATION_MS, used by the test
 * that keeps this command working) prints a summary and removes the Redis keys the demo wrote.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import pino from 'pino';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/app-config';
import { AdminApiClient } from '../src/cli/admin-api.client';
import { DemoReceiver } from '../src/demo/demo-receiver';
import { DemoUnhappyPath } from '../src/demo/demo-unhappy-path';
import { OpentactSimulator, SIMULATOR_DEMO_LOGIN } from '../src/simulator/opentact-simulator';
import { waitFor } from '../test/support/wait';
import { deleteKeysUnder, provideRedis, type ProvidedRedis } from './redis-provider';

// Balance first: its delivery to the endpoint that is down dies and is replayed early on.
const SCENARIOS = [
  'balance',
  'inbound-call',
  'outbound-sms',
  'inbound-sms',
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
  let unhappy: DemoUnhappyPath | undefined;
  let app: INestApplication | undefined;
  let timer: NodeJS.Timeout | undefined;
  // This run's own keys, removed on the way out; a second demo on the same Redis has others.
  const prefix = `otb-demo-${randomBytes(4).toString('hex')}`;

  const summary = (): void => {
    if (!receiver || !unhappy) {
      return;
    }
    const requests = receiver.counts.requests + unhappy.received.requests;
    const verified = receiver.counts.verified + unhappy.received.verified;
    out(`\ndemo done: ${requests} webhook(s) received, ${verified} with a valid signature`);
    out(`  every event      ${receiver.counts.verified} delivered to ${receiver.url}`);
    for (const line of unhappy.summary()) {
      out(line);
    }
  };
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    clearInterval(timer);
    summary();
    // Its admin API calls first: they would keep the bridge's HTTP server from closing.
    await unhappy?.stopWatching().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await unhappy?.stop().catch(() => undefined);
    await receiver?.stop().catch(() => undefined);
    await simulator?.stop().catch(() => undefined);
    if (redis) {
      out(
        await deleteKeysUnder(redis.url, prefix).then(
          (count) => `cleanup    removed ${count} Redis key(s) under ${prefix}:`,
          (error: unknown) =>
            `cleanup    could not remove the Redis keys under ${prefix}: (${error instanceof Error ? error.message : String(error)})`,
        ),
      );
    }
    await redis?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    redis = await provideRedis(process.env.REDIS_URL);
    out(
      `redis      ${redis.url}${redis.started ? ' (started for this demo)' : ''}, keys under ${prefix}: (removed on exit)`,
    );

    simulator = new OpentactSimulator({ port: 0, controlPort: 0 });
    await simulator.start();
    out(
      `simulator  REST ${simulator.restUrl}  WSS ${simulator.wssUrl}  control ${simulator.controlUrl ?? '-'}`,
    );

    receiver = new DemoReceiver({
      onWebhook: (w) => {
        const data = JSON.stringify((w.body.data as Record<string, unknown> | undefined) ?? {});
        const recovered =
          (w.body.data as Record<string, unknown> | undefined)?.recovered === true
            ? ' (recovered over REST)'
            : '';
        out(
          `webhook    ${w.verified ? 'signature ok ' : 'BAD SIGNATURE'} ${w.type.padEnd(24)} ${w.id}${recovered}  ${data.length > 110 ? `${data.slice(0, 107)}...` : data}`,
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
      OPENTACT_EMAIL: SIMULATOR_DEMO_LOGIN.email,
      OPENTACT_PASSWORD: SIMULATOR_DEMO_LOGIN.password,
      OPENTACT_SUBSCRIBE: 'call_state,call_flow,sms,balance,tn_order',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      ADMIN_API_KEY: adminApiKey,
      DELIVERY_ALLOW_CIDRS: '127.0.0.1/32,::1/128',
      // Short, so a retry and a dead delivery happen within seconds (3 attempts in about 3 s).
      DELIVERY_RETRY_SCHEDULE: '1s,2s',
      // Quick reconnects, so the demo's outage is over soon after the simulator allows it.
      OPENTACT_RECONNECT_BASE_MS: '200',
      OPENTACT_RECONNECT_MAX_MS: '1000',
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
    out(`subscribed ${subscription.id} -> ${receiver.url} for every event type`);
    unhappy = new DemoUnhappyPath({
      api: new AdminApiClient({
        baseUrl: apiUrl,
        apiKey: adminApiKey,
        timeoutMs: 5_000,
        userAgent: 'opentact-bridge-demo',
      }),
      print: out,
    });
    await unhappy.start();
    out('');

    let round = 0;
    const play = (): void => {
      if (round === 2) {
        // An outage: Opentact keeps nothing for the bridge, which recovers it over REST after.
        simulator!.refuseConnections(1_500);
        simulator!.recordInboundSms();
        simulator!.recordCallState('init');
        out('simulator  WSS refused for 1.5 s; an inbound SMS and a call arrive meanwhile');
        round++;
        return;
      }
      const name = SCENARIOS[round % SCENARIOS.length];
      const generation = round % 2 === 0 ? 'newer' : 'older';
      const frames = simulator!.emitScenario(name, generation);
      out(`simulator  sent ${frames.length} frame(s): ${name} (${generation} envelope)`);
      round++;
    };
    await waitFor(
      () => simulator!.stats.authenticated > 0,
      15_000,
      'the bridge to authenticate to the simulator',
    );
    play();
    timer = setInterval(play, intervalMs);
    if (durationMs > 0) {
      setTimeout(() => void shutdown(receiver!.counts.verified > 0 ? 0 : 1), durationMs);
    } else {
      out("(Ctrl-C to stop: prints a summary and removes the demo's Redis keys)");
    }
  } catch (error) {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await shutdown(1);
  }
}

void main();
