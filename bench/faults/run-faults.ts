/**
 * `npm run faults` (and `npm run faults:smoke`): the service under steady load while one fault is
 * injected; afterwards every event the simulator put on a live bridge socket must have reached
 * every subscription. The script fails (exit 1) on a lost event, on a request whose signature does
 * not verify, or on more duplicates than the fault explains (requests in flight in a killed
 * process, writes inside Redis's AOF window). Loopback only, every wait bounded.
 *   FAULTS_SMOKE=1        a few seconds per scenario, each fault still injected while load flows
 *                         (CI runs it: the gate keeps working)
 *   FAULTS_ONLY=f1,f2...  run only these scenarios (f1, f2, f3a, f3b, f4, f5, f6, f7)
 *   FAULTS_OUT=<dir>      where service logs go (default: a temp dir)
 */
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { buildArtifacts } from '../lib/build';
import { CountingReceiver } from '../lib/counting-receiver';
import { machineLines } from '../lib/machine';
import { onCleanup, runMain } from '../lib/processes';
import { RestartableRedis } from '../lib/redis';
import { sentIds } from '../lib/rig';
import { waitForServiceIdle, waitForSubscriptionsLoaded } from '../lib/service-state';
import {
  createSubscription,
  type ServiceProcess,
  type ServiceRole,
  startService,
} from '../lib/service';
import { fmtInt, fmtNum, mustWaitUntil, nowMs, out, sleep, table, waitUntil } from '../lib/util';
import { type FaultOutcome, runGapRecovery } from './gap-recovery.fault';
import { TcpFaultProxy } from './tcp-proxy';

const SMOKE = process.env.FAULTS_SMOKE === '1' || process.argv.includes('--smoke');
const ONLY = new Set(
  (process.env.FAULTS_ONLY ?? 'f1,f2,f3a,f3b,f4,f5,f6,f7')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

const C = SMOKE
  ? {
      rate: 50,
      loadSeconds: 2.5,
      faultAtSeconds: 1,
      errorSeconds: 2,
      cutSeconds: 1,
      settleMs: 30_000,
    }
  : {
      rate: 300,
      loadSeconds: 30,
      faultAtSeconds: 10,
      errorSeconds: 120,
      cutSeconds: 10,
      settleMs: 180_000,
    };
const SUBSCRIPTIONS = 3;

/** Fast enough to observe recovery inside a bounded run; otherwise production defaults. */
const SERVICE_ENV: Record<string, string> = {
  OPENTACT_RECONNECT_BASE_MS: '200',
  OPENTACT_RECONNECT_MAX_MS: '2000',
  OPENTACT_PING_INTERVAL_MS: '2000',
  OPENTACT_PONG_TIMEOUT_MS: '1000',
  DELIVERY_TIMEOUT_MS: '5000',
  // A killed worker's events and jobs are taken over after this (production default 30 s).
  WORKER_LOCK_MS: '10000',
  DELIVERY_RETRY_SCHEDULE: '1s,2s,5s,10s,15s,15s,15s,15s,15s,15s,15s,15s,15s,15s,15s,15s',
  SHUTDOWN_TIMEOUT_MS: '10000',
  FANOUT_CONCURRENCY: '50',
  WORKER_CONCURRENCY: '50',
  // The 'subscriptions loaded' line the scenarios wait for before the load starts.
  LOG_LEVEL: 'info',
};

/**
 * Requests one process can have in flight: an event per fan-out slot, to every subscription, and
 * a job per delivery slot. A process killed (or cut from Redis) may have sent each of them without
 * recording it, so each may be sent again: the most duplicates such a fault explains.
 */
const IN_FLIGHT_PER_PROCESS =
  Number(SERVICE_ENV.FANOUT_CONCURRENCY) * SUBSCRIPTIONS + Number(SERVICE_ENV.WORKER_CONCURRENCY);

/** How many duplicates a scenario's fault explains, and why. */
interface DuplicateAllowance {
  max: number;
  why: string;
}

const NO_DUPLICATES: DuplicateAllowance = { max: 0, why: 'nothing in this fault resends' };

interface World {
  redis: RestartableRedis;
  sim: OpentactSimulator;
  receivers: CountingReceiver[];
  redisUrl: string;
  main: string;
  logDir: string;
}

interface Outcome extends FaultOutcome {
  scenario: string;
}

let logDir = '';
let serviceMain = '';
const outcomes: Outcome[] = [];

async function withWorld<T>(
  options: { viaProxy?: boolean },
  run: (world: World, proxy?: TcpFaultProxy) => Promise<T>,
): Promise<T> {
  const redis = await RestartableRedis.start();
  const proxy = options.viaProxy ? new TcpFaultProxy(redis.port) : undefined;
  const sim = new OpentactSimulator({ port: 0 });
  const receivers = Array.from(
    { length: SUBSCRIPTIONS },
    (_, i) => new CountingReceiver(`r${i + 1}`),
  );
  const teardown = async (): Promise<void> => {
    await Promise.all(receivers.map((r) => r.stop().catch(() => undefined)));
    await sim.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await redis.destroy().catch(() => undefined);
  };
  const unregister = onCleanup(teardown);
  try {
    await proxy?.start();
    await sim.start();
    await Promise.all(receivers.map((r) => r.start()));
    const redisUrl = proxy ? `redis://127.0.0.1:${proxy.port}` : redis.url;
    return await run({ redis, sim, receivers, redisUrl, main: serviceMain, logDir }, proxy);
  } finally {
    unregister();
    await teardown();
  }
}

function start(world: World, role: ServiceRole, label: string): Promise<ServiceProcess> {
  return startService({
    main: world.main,
    role,
    redisUrl: world.redisUrl,
    simulator: world.sim,
    logFile: join(world.logDir, `${label}.log`),
    label,
    env: SERVICE_ENV,
  });
}

async function waitAuthenticated(world: World, atLeast = 1): Promise<void> {
  await mustWaitUntil(
    () => world.sim.stats.authenticated >= atLeast,
    30_000,
    'the bridge to authenticate',
  );
}

/** Subscribes every receiver, then waits until each fan-out process has loaded them all. */
async function subscribe(
  world: World,
  api: ServiceProcess,
  fanOuts: ServiceProcess[] = [api],
): Promise<void> {
  for (const receiver of world.receivers) {
    receiver.setSecret((await createSubscription(api, receiver.url)).secret);
  }
  for (const p of fanOuts) {
    // A change message, or the once-a-second version check, with room for a loaded machine.
    const logFile = p.options.logFile ?? '';
    const loaded = await waitForSubscriptionsLoaded(
      () => (p.options.logFile ? readFileSync(logFile, 'utf8') : p.output.join('')),
      world.receivers.length,
      15_000,
    );
    if (!loaded) {
      throw new Error(
        `${p.options.name} did not load the subscriptions; see ${logFile || 'its output'}`,
      );
    }
  }
}

function load(world: World): Promise<unknown> {
  return world.sim.emitAtRate({
    ratePerSecond: C.rate,
    durationMs: C.loadSeconds * 1000,
    kind: 'call',
    generation: 'newer',
    payloadBytes: 1024,
  });
}

/**
 * Waits until every event sent to a live socket reached every receiver (bounded), then counts.
 * `tolerated(at)`: events sent at that time may be lost without failing (the AOF window).
 * Recovery: from `faultEndMs` until every event sent before it was delivered everywhere.
 */
async function settle(
  world: World,
  api: ServiceProcess,
  scenario: string,
  faultEndMs: number,
  notes: string[],
  allowance: DuplicateAllowance,
  tolerated: (at: number) => boolean = () => false,
): Promise<void> {
  const all = sentIds(world.sim);
  const required = all.filter((e) => !tolerated(e.at));
  const complete = (): boolean =>
    required.every((e) => world.receivers.every((r) => r.arrivals.has(e.id)));
  const started = nowMs();
  const done = await waitUntil(complete, C.settleMs, 250);
  // Then until nothing is left in fan-out or the queue: a late duplicate has arrived by then.
  const idle = await waitForServiceIdle(
    api.url,
    Math.max(10_000, C.settleMs - (nowMs() - started)),
  );
  if (!idle) {
    notes.push('the service did not go idle; late duplicates may be missing from the count');
  }
  let lost = 0;
  let toleratedLost = 0;
  let delivered = 0;
  let recoveredAt = faultEndMs;
  for (const e of all) {
    for (const r of world.receivers) {
      const arrival = r.arrivals.get(e.id);
      if (arrival) {
        delivered++;
        if (e.at <= faultEndMs) {
          recoveredAt = Math.max(recoveredAt, arrival.at);
        }
      } else if (tolerated(e.at)) {
        toleratedLost++;
      } else {
        lost++;
      }
    }
  }
  if (!done) {
    notes.push(`not complete after ${C.settleMs / 1000} s`);
  }
  if (toleratedLost > 0) {
    notes.push(
      `${toleratedLost} deliveries of events sent <= 2 s before the kill missing (AOF everysec window, tolerated)`,
    );
  }
  const duplicated = world.receivers.reduce((sum, r) => sum + r.duplicates, 0);
  const badSignatures = world.receivers.reduce((sum, r) => sum + r.badSignatures, 0);
  notes.push(`duplicates allowed ${allowance.max}: ${allowance.why}`);
  outcomes.push({
    scenario,
    events: all.length,
    expected: all.length * world.receivers.length,
    delivered,
    lost,
    duplicated,
    duplicatesAllowed: allowance.max,
    badSignatures,
    recoveryS: lost === 0 ? (recoveredAt - faultEndMs) / 1000 : undefined,
    notes,
  });
}

async function atFault(): Promise<void> {
  await sleep(C.faultAtSeconds * 1000);
}

// --- the scenarios --------------------------------------------------------------------------

async function f1KillWorker(): Promise<void> {
  await withWorld({}, async (world) => {
    const api = await start(world, 'api', 'f1-api');
    const [ingest, workerA, workerB] = await Promise.all([
      start(world, 'ingest', 'f1-ingest'),
      start(world, 'worker', 'f1-worker-a'),
      start(world, 'worker', 'f1-worker-b'),
    ]);
    try {
      await waitAuthenticated(world);
      await subscribe(world, api, [workerA, workerB]);
      const running = load(world);
      await atFault();
      workerA.kill();
      const killedAt = nowMs();
      await running;
      // A read the dead worker had blocked in Redis can still be handed entries until Redis
      // notices the closed socket: those wait out WORKER_LOCK_MS too.
      const notes = [
        `worker A kill -9 at ${C.faultAtSeconds} s under load; worker B carries on; what A held comes back after WORKER_LOCK_MS=${SERVICE_ENV.WORKER_LOCK_MS} ms`,
      ];
      await settle(world, api, '1. kill -9 one of two workers', killedAt, notes, {
        max: IN_FLIGHT_PER_PROCESS,
        why: "the killed worker's requests in flight, sent again by the survivor",
      });
    } finally {
      await Promise.all([ingest, workerA, workerB, api].map((p) => p.stop()));
    }
  });
}

async function f2RedisRestart(): Promise<void> {
  await withWorld({}, async (world) => {
    const service = await start(world, 'all', 'f2-service');
    try {
      await waitAuthenticated(world);
      await subscribe(world, service);
      const running = load(world);
      await atFault();
      world.redis.kill9();
      const killedAt = nowMs();
      await world.redis.waitExit();
      await sleep(SMOKE ? 1_000 : 5_000);
      await world.redis.launch();
      const restartedAt = nowMs();
      await running;
      // Deliveries recorded in the AOF's last second(s) before the kill are forgotten, and made
      // again; so are requests in flight when Redis vanished.
      const inAofWindow = world.receivers.reduce(
        (sum, r) =>
          sum +
          [...r.arrivals.values()].filter((a) => a.at > killedAt - 2_000 && a.at <= killedAt)
            .length,
        0,
      );
      await settle(
        world,
        service,
        '2. Redis kill -9, restart with AOF',
        restartedAt,
        [
          `Redis down ${fmtNum((restartedAt - killedAt) / 1000)} s; same service process throughout`,
        ],
        {
          max: inAofWindow + IN_FLIGHT_PER_PROCESS,
          why: `${inAofWindow} deliveries in the 2 s AOF window before the kill, plus requests in flight`,
        },
        (at) => at > killedAt - 2_000 && at <= killedAt,
      );
    } finally {
      await service.stop();
    }
  });
}

async function f3Wss(pongs: boolean): Promise<void> {
  await withWorld({}, async (world) => {
    const label = pongs ? 'f3b' : 'f3a';
    const service = await start(world, 'all', `${label}-service`);
    try {
      await waitAuthenticated(world);
      await subscribe(world, service);
      const before = world.sim.stats.connectionsTotal;
      const running = load(world);
      await atFault();
      const faultAt = nowMs();
      if (pongs) {
        world.sim.setPongs(false);
        await mustWaitUntil(
          () => world.sim.stats.connectionsTotal > before,
          30_000,
          'a reconnect after missed pongs',
        );
        world.sim.setPongs(true);
      } else {
        world.sim.dropAll();
      }
      await mustWaitUntil(
        () => world.sim.stats.authenticated >= 1,
        30_000,
        'the bridge to reconnect',
      );
      const backAt = nowMs();
      await running;
      const gap = world.sim.sentLog.filter((e) => e.sockets === 0).length;
      await settle(
        world,
        service,
        pongs ? '3b. simulator stops answering pings' : '3a. simulator drops the WSS',
        backAt,
        [
          `reconnected ${fmtNum((backAt - faultAt) / 1000)} s after the fault; ${gap} frames sent while no socket was open (not expected)`,
        ],
        NO_DUPLICATES,
      );
    } finally {
      await service.stop();
    }
  });
}

async function f4Receiver500(): Promise<void> {
  await withWorld({}, async (world) => {
    const service = await start(world, 'all', 'f4-service');
    try {
      await waitAuthenticated(world);
      await subscribe(world, service);
      const failing = world.receivers[0];
      failing.mode = 'error500';
      const faultStart = nowMs();
      await load(world);
      await sleep(Math.max(0, faultStart + C.errorSeconds * 1000 - nowMs()));
      failing.mode = 'ok';
      const recoveredAt = nowMs();
      await settle(
        world,
        service,
        '4. one receiver answers 500, then recovers',
        recoveredAt,
        [
          `receiver r1 answered 500 for ${C.errorSeconds} s (${fmtInt(failing.refused)} attempts refused); retry schedule ${SERVICE_ENV.DELIVERY_RETRY_SCHEDULE}`,
        ],
        NO_DUPLICATES,
      );
    } finally {
      await service.stop();
    }
  });
}

async function f5Sigterm(): Promise<void> {
  await withWorld({}, async (world) => {
    let service = await start(world, 'all', 'f5-service-1');
    try {
      await waitAuthenticated(world);
      await subscribe(world, service);
      const running = load(world);
      await atFault();
      const termAt = nowMs();
      const { code } = await service.stop(40_000);
      const stoppedAt = nowMs();
      service = await start(world, 'all', 'f5-service-2');
      await waitAuthenticated(world);
      const backAt = nowMs();
      await running;
      await settle(
        world,
        service,
        '5. SIGTERM under load, fresh start',
        backAt,
        [
          `stopped in ${fmtNum((stoppedAt - termAt) / 1000)} s with exit code ${code ?? 'signal'}; new process reading ${fmtNum((backAt - stoppedAt) / 1000)} s later`,
        ],
        // A clean stop finishes what it started; one that outlived SHUTDOWN_TIMEOUT_MS was killed.
        code === 0
          ? { max: 0, why: 'a clean stop finishes its requests in flight' }
          : { max: IN_FLIGHT_PER_PROCESS, why: 'the stop was forced: its requests in flight' },
      );
    } finally {
      await service.stop();
    }
  });
}

async function f6Proxy(): Promise<void> {
  await withWorld({ viaProxy: true }, async (world, proxy) => {
    const service = await start(world, 'all', 'f6-service');
    try {
      await waitAuthenticated(world);
      await subscribe(world, service);
      const notes: string[] = [];
      const running = load(world);
      await sleep((C.faultAtSeconds / 2) * 1000);
      proxy!.latencyMs = 100; // each way: +200 ms per round trip
      await sleep((C.faultAtSeconds / 2) * 1000);
      proxy!.cut();
      await sleep(C.cutSeconds * 1000);
      proxy!.restore();
      proxy!.latencyMs = 0;
      const restoredAt = nowMs();
      await running;
      notes.push(
        `+200 ms round trip for ${fmtNum(C.faultAtSeconds / 2)} s, then connections cut and black-holed for ${C.cutSeconds} s`,
      );
      await settle(world, service, '6. Redis via proxy: +200 ms RTT, then cut', restoredAt, notes, {
        max: IN_FLIGHT_PER_PROCESS,
        why: 'requests answered while Redis was cut off, whose record could not be written',
      });
    } finally {
      await service.stop();
    }
  });
}

async function f7GapRecovery(): Promise<void> {
  await withWorld({}, async (world) => {
    const outcome = await runGapRecovery(world, {
      smoke: SMOKE,
      settleMs: C.settleMs,
      start: (w) => start(w, 'all', 'f7-service'),
      waitAuthenticated: (w) => waitAuthenticated(w),
      subscribe,
    });
    outcomes.push({ scenario: '7. WSS refused; the gap recovered over REST', ...outcome });
  });
}

async function main(): Promise<number> {
  logDir = process.env.FAULTS_OUT ?? mkdtempSync(join(tmpdir(), 'otb-faults-'));
  mkdirSync(logDir, { recursive: true });
  out(`opentact-bridge fault suite${SMOKE ? ' (smoke: a few seconds each)' : ''}`);
  const probe = await RestartableRedis.start();
  try {
    (await machineLines(probe.url)).forEach((l) => out(l));
  } finally {
    await probe.destroy();
  }
  out(
    `load      ${C.rate} events/s of 1 KB frames, ${SUBSCRIPTIONS} subscriptions; logs ${logDir}`,
  );
  serviceMain = buildArtifacts({ baseline: false }).serviceMain;
  const scenarios: [string, () => Promise<void>][] = [
    ['f1', f1KillWorker],
    ['f2', f2RedisRestart],
    ['f3a', () => f3Wss(false)],
    ['f3b', () => f3Wss(true)],
    ['f4', f4Receiver500],
    ['f5', f5Sigterm],
    ['f6', f6Proxy],
    ['f7', f7GapRecovery],
  ];
  for (const [id, run] of scenarios) {
    if (!ONLY.has(id)) {
      continue;
    }
    const t = Date.now();
    out(`-- ${id}`);
    await run();
    out(`   done in ${fmtNum((Date.now() - t) / 1000)} s`);
  }
  out();
  out(
    table([
      [
        'scenario',
        'events sent',
        'deliveries expected',
        'delivered',
        'lost',
        'duplicated',
        'allowed',
        'bad signatures',
        'recovery s',
      ],
      ...outcomes.map((o) => [
        o.scenario,
        fmtInt(o.events),
        fmtInt(o.expected),
        fmtInt(o.delivered),
        fmtInt(o.lost),
        fmtInt(o.duplicated),
        fmtInt(o.duplicatesAllowed),
        fmtInt(o.badSignatures),
        o.recoveryS === undefined ? 'n/a' : fmtNum(o.recoveryS),
      ]),
    ]),
  );
  out();
  outcomes.forEach((o) => out(`${o.scenario}: ${o.notes.join('; ')}`));
  const failures = outcomes.flatMap((o) => verdict(o).map((why) => `${o.scenario}: ${why}`));
  if (outcomes.length === 0) {
    failures.push(`no scenario ran (FAULTS_ONLY=${[...ONLY].join(',')})`);
  }
  out(
    failures.length === 0
      ? '\nPASS: nothing lost, every signature verified, no duplicate the faults do not explain'
      : `\nFAIL:\n${failures.map((f) => `  ${f}`).join('\n')}`,
  );
  return failures.length === 0 ? 0 : 1;
}

/** Why a scenario fails the suite; empty when it passes. */
export function verdict(
  o: Pick<Outcome, 'lost' | 'badSignatures' | 'duplicated' | 'duplicatesAllowed'>,
): string[] {
  const why: string[] = [];
  if (o.lost > 0) {
    why.push(`${o.lost} deliveries lost`);
  }
  if (o.badSignatures > 0) {
    why.push(`${o.badSignatures} requests with a signature that does not verify`);
  }
  if (o.duplicated > o.duplicatesAllowed) {
    why.push(`${o.duplicated} duplicates, more than the ${o.duplicatesAllowed} the fault explains`);
  }
  return why;
}

if (require.main === module) {
  runMain(main);
}
