import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  DeliveryAttempt as ServiceAttempt,
  DeliveryRecord,
} from '../../../src/delivery/delivery.model';
import type { NormalizedEvent } from '../../../src/events/normalized-event';
import type { QuarantinedFrame as ServiceQuarantinedFrame } from '../../../src/events/quarantine.repository';
import type { OpentactSimulator } from '../../../src/simulator/opentact-simulator';
import type {
  CreatedSubscriptionResponseDto,
  RotateSecretResponseDto,
  SubscriptionListResponseDto,
} from '../../../src/subscriptions/dto/subscription-response.dto';
import type {
  BridgeEvent,
  CreatedSubscription,
  Delivery,
  DeliveryAttempt,
  DeliveryPage,
  QuarantinedFrame,
  QuarantinePage,
  ReplayResult,
  RotatedSecret,
  SubscriptionPage,
  TestSent,
} from '../../../src/cli/admin-api.types';
import { DeliveryStatus } from '../../../src/delivery/delivery.model';
import {
  MAX_ATTEMPTS,
  startBridge,
  startSimulator,
  waitForDelivery,
  waitForRegistry,
} from '../../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
  waitFor,
} from '../../support/harness';
import { closedPort, ProgrammableReceiver } from '../../support/webhook-receivers';
import type { StatusReport } from '../../../src/cli/status/status-report';
import { binPath, type CliRun, CompiledCli } from './compiled-cli';
import { deliveryIdOf } from '../../../src/queue/queue.constants';

/** The CLI reads the wire contract: these fail to compile if the service's shapes drift from it. */
export const contractChecks = {
  subscription: (s: CreatedSubscriptionResponseDto): CreatedSubscription => s,
  page: (p: SubscriptionListResponseDto): SubscriptionPage => p,
  rotated: (r: RotateSecretResponseDto): RotatedSecret => r,
  delivery: (d: DeliveryRecord): Delivery => d,
  attempt: (a: ServiceAttempt): DeliveryAttempt => a,
  // Event data types are interfaces, which TypeScript does not match to an index signature.
  event: (e: NormalizedEvent): BridgeEvent => ({ ...e, data: { ...e.data } }),
  frame: (f: ServiceQuarantinedFrame): QuarantinedFrame => f,
};

const ROOT = join(__dirname, '..', '..', '..');

function parsed<T>(run: CliRun): T {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('the opentact-bridge command line against a running service', () => {
  const prefix = uniquePrefix('cli');
  const cli = new CompiledCli();
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receiver: ProgrammableReceiver;
  /** The receiver's switch: fail every request while true. */
  let failing = true;
  let subscriptionId: string;
  let testDelivery: TestSent;

  const run = (...args: string[]): Promise<CliRun> =>
    cli.run(args, { OPENTACT_BRIDGE_URL: bridge.url, OPENTACT_BRIDGE_API_KEY: TEST_ADMIN_KEY });

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    receiver = await new ProgrammableReceiver(() =>
      failing ? { status: 500, body: 'down for maintenance' } : { status: 200, body: 'thanks' },
    ).start();
  });

  afterAll(async () => {
    await bridge?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
    cli.remove();
  });

  it('is the bin that `npm run build` compiles from src/cli/cli.main.ts', () => {
    expect(binPath()).toBe('dist/cli/cli.main.js');
    expect(readFileSync(join(ROOT, 'src/cli/cli.main.ts'), 'utf8')).toMatch(
      /^#!\/usr\/bin\/env node\n/,
    );
    expect(readFileSync(cli.entry, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('shows the whole service: ready, each ingest link, queues and the last hour', async () => {
    // Each ingest process reports its link every few seconds: wait for the first report.
    const report = await waitFor(
      async () => {
        const read = parsed<StatusReport>(await run('status', '--json'));
        return read.connection?.state === 'open' ? read : undefined;
      },
      20_000,
      'an open link in the status',
    );
    expect(report).toMatchObject({
      ready: true,
      connection: { state: 'open', instances: [{ state: 'open', paused: false }] },
      deliveriesCountedBy: 'last-hour',
      subscriptions: { total: expect.any(Number) as number },
      quarantined: expect.any(Number) as number,
    });
    const human = await run('status');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/Ready:\s+yes/);
    expect(human.stdout).toMatch(/redis\s+up/);
    expect(human.stdout).toMatch(/^Opentact connection: open$/m);
    expect(human.stdout).toMatch(/^\S+\s+open\s+\d+\s+\d+\s+yes\s+/m);
    expect(human.stdout).toMatch(/^deliveries(\s+\d+){6}$/m);
    expect(human.stdout).toMatch(/^Events: backlog \d+, in fan-out \d+, retained \d+$/m);
  });

  it('creates a subscription and lists it', async () => {
    const created = parsed<CreatedSubscription>(
      await run(
        'subscriptions',
        'create',
        '--url',
        receiver.url(),
        '--types',
        'account.*,webhook.test',
        '--description',
        'from the command line',
        '--header',
        'X-Tenant=acme',
        '--json',
      ),
    );
    expect(created).toMatchObject({
      url: receiver.url(),
      eventTypes: ['account.*', 'webhook.test'],
      headers: { 'X-Tenant': 'acme' },
      enabled: true,
    });
    expect(created.secret).toMatch(/^whsec_/);
    subscriptionId = created.id;
    await waitForRegistry(bridge, [subscriptionId]);

    const table = await run('subscriptions', 'list');
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((line) => line.startsWith(subscriptionId));
    expect(row).toMatch(/enabled\s+http:\/\/127\.0\.0\.1:\d+\/hook\s+account\.\*,webhook\.test/);
    const page = parsed<SubscriptionPage>(await run('subscriptions', 'list', '--json'));
    expect(page.data.map((s) => s.id)).toEqual([subscriptionId]);

    const one = await run('subscriptions', 'get', subscriptionId);
    expect(one.stdout).toMatch(/Description:\s+from the command line/);
    expect(one.stdout).not.toContain(created.secret);
  });

  it('sends a test event whose failed delivery shows in list and show, every attempt', async () => {
    testDelivery = parsed<TestSent>(await run('subscriptions', 'test', subscriptionId, '--json'));
    await waitForDelivery(
      bridge,
      testDelivery.deliveryId,
      (d) => d.status === DeliveryStatus.Dead,
      15_000,
    );

    const list = await run('deliveries', 'list', '--subscription', subscriptionId);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${testDelivery.deliveryId}\\s+\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\s+dead\\s+webhook\\.test\\s+${MAX_ATTEMPTS}\\s+500`,
        'm',
      ),
    );
    const failed = parsed<DeliveryPage>(
      await run('deliveries', 'list', '--status', 'failed', '--since', '10m', '--json'),
    );
    expect(failed.data.map((d) => d.id)).toEqual([testDelivery.deliveryId]);
    const none = parsed<DeliveryPage>(
      await run('deliveries', 'list', '--status', 'succeeded', '--json'),
    );
    expect(none.data).toEqual([]);

    const show = await run('deliveries', 'show', testDelivery.deliveryId);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/Status:\s+dead/);
    const attemptRows = show.stdout
      .split('\n')
      .filter((line) => /^\s*\d+\s+\d{4}-\d{2}-\d{2} /.test(line));
    expect(attemptRows).toHaveLength(MAX_ATTEMPTS);
    for (const row of attemptRows) {
      expect(row).toMatch(/\s500\s+\d+ ms\s+status 500\s+down for maintenance$/);
    }
    const record = parsed<Delivery>(
      await run('deliveries', 'show', testDelivery.deliveryId, '--json'),
    );
    expect(record.attempts).toHaveLength(MAX_ATTEMPTS);

    const event = await run('events', 'get', testDelivery.eventId);
    expect(event.code).toBe(0);
    expect(event.stdout).toMatch(/Type:\s+webhook\.test/);
  });

  it('retries the dead delivery once the receiver is back', async () => {
    failing = false;
    const retried = await run('deliveries', 'retry', testDelivery.deliveryId);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`Delivery ${testDelivery.deliveryId} queued again`);
    await waitForDelivery(
      bridge,
      testDelivery.deliveryId,
      (d) => d.status === DeliveryStatus.Succeeded,
    );
    const show = await run('deliveries', 'show', testDelivery.deliveryId);
    expect(show.stdout).toMatch(/Status:\s+succeeded/);
    expect(show.stdout).toMatch(/\s200\s+\d+ ms\s+thanks$/m);
  });

  it('replays the failed deliveries of a window', async () => {
    failing = true;
    const [frame] = sim.emitScenario('balance', 'newer');
    const eventId = frame.uuid as string;
    const dead = await waitForDelivery(
      bridge,
      deliveryIdOf(eventId, subscriptionId),
      (d) => d.status === DeliveryStatus.Dead,
      15_000,
    );
    failing = false;
    const replay = parsed<ReplayResult>(
      await run('replay', '--subscription', subscriptionId, '--since', '10m', '--json'),
    );
    expect(replay.replayed).toBe(1);
    await waitForDelivery(bridge, dead.id, (d) => d.status === DeliveryStatus.Succeeded);

    const human = await run(
      'replay',
      '--subscription',
      subscriptionId,
      '--since',
      '10m',
      '--scope',
      'failed',
    );
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^0 failed delivery\(ies\) sent again to sub_/);
  });

  it('lists the quarantine', async () => {
    const page = parsed<QuarantinePage>(await run('quarantine', 'list', '--json'));
    expect(typeof page.total).toBe('number');
    const human = await run('quarantine', 'list', '--limit', '5');
    expect(human.stdout).toMatch(/frame\(s\) kept in quarantine/);
  });

  it('disables, enables, rotates the secret and deletes', async () => {
    expect((await run('subscriptions', 'disable', subscriptionId)).stdout).toMatch(
      /State:\s+disabled/,
    );
    const refused = await run('subscriptions', 'test', subscriptionId);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error: 409 Conflict: subscription');
    expect((await run('subscriptions', 'enable', subscriptionId)).stdout).toMatch(
      /State:\s+enabled/,
    );
    const rotated = parsed<RotatedSecret>(
      await run('subscriptions', 'rotate-secret', subscriptionId, '--json'),
    );
    expect(rotated.secret).toMatch(/^whsec_/);
    const deleted = await run('subscriptions', 'delete', subscriptionId);
    expect(deleted).toEqual({ code: 0, stdout: `Deleted ${subscriptionId}.\n`, stderr: '' });
    const gone = await run('subscriptions', 'get', subscriptionId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error: 404 Not Found: subscription ${subscriptionId} not found\n`);
  });

  it("shows the API's 400 with every bad field, exit 1", async () => {
    const bad = await run(
      'subscriptions',
      'create',
      '--url',
      'http://169.254.169.254/latest',
      '--types',
      'call.nope',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: 400 Bad Request: validation failed\n/);
    expect(bad.stderr).toMatch(/^ {2}eventTypes\[0\]: /m);
    expect(bad.stderr).toMatch(/^ {2}url: /m);
  });

  it('refuses a wrong key with exit 1 and a clear message, printing neither key', async () => {
    const wrongKey = `${TEST_ADMIN_KEY}-wrong`;
    for (const result of [
      await cli.run(['--key', wrongKey, 'subscriptions', 'list', '--verbose'], {
        OPENTACT_BRIDGE_URL: bridge.url,
      }),
      await cli.run(['deliveries', 'list', '-v'], {
        OPENTACT_BRIDGE_URL: bridge.url,
        OPENTACT_BRIDGE_API_KEY: wrongKey,
      }),
    ]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('error: 401 Unauthorized: invalid admin API key');
      expect(result.stderr).toContain('OPENTACT_BRIDGE_API_KEY');
      expect(result.stdout + result.stderr).not.toContain(TEST_ADMIN_KEY);
    }
    const none = await cli.run(['subscriptions', 'list'], { OPENTACT_BRIDGE_URL: bridge.url });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('error: 401 Unauthorized: missing admin API key');
  });

  it('says clearly when the service cannot be reached', async () => {
    const port = await closedPort();
    const result = await cli.run(['subscriptions', 'list'], {
      OPENTACT_BRIDGE_URL: `http://127.0.0.1:${port}`,
      OPENTACT_BRIDGE_API_KEY: TEST_ADMIN_KEY,
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `error: cannot reach opentact-bridge at http://127.0.0.1:${port}: connection refused`,
    );
    expect(result.stderr).not.toContain(TEST_ADMIN_KEY);
  });

  it('exits 2 for a wrong command line, without calling the service', async () => {
    const result = await run('deliveries', 'list', '--status', 'lost');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: option '--status <status>' argument 'lost' is invalid");
  });
});
