/**
 * Fault f7, gap recovery: the WSS is refused for a while (30 s; 3 s in smoke) and meanwhile the
 * simulator records 200 inbound SMS and 50 call state changes that no socket hears. Once the
 * bridge is back, recovery over the REST searches must deliver every one of them to every
 * subscription exactly once. Prints the recovery time: from the reconnect to the last arrival.
 * Kept apart from run-faults.ts, which only calls it.
 */
import type { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import type { CountingReceiver } from '../lib/counting-receiver';
import type { ServiceProcess } from '../lib/service';
import { fmtNum, mustWaitUntil, nowMs, sleep, waitUntil } from '../lib/util';

export const GAP_SMS = 200;
export const GAP_CALLS = 10;
/** init, ringing, live, hangup, destroyed. */
export const GAP_CALL_STATES = ['init', 'ringing', 'live', 'hangup', 'destroyed'] as const;

export interface GapWorld {
  sim: OpentactSimulator;
  receivers: CountingReceiver[];
}

/** What one fault scenario measured; run-faults.ts adds the scenario's name and judges it. */
export interface FaultOutcome {
  events: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  duplicatesAllowed: number;
  badSignatures: number;
  recoveryS?: number;
  notes: string[];
}

export interface GapRecoveryDeps<W extends GapWorld> {
  smoke: boolean;
  settleMs: number;
  start(world: W): Promise<ServiceProcess>;
  waitAuthenticated(world: W): Promise<void>;
  subscribe(world: W, service: ServiceProcess): Promise<void>;
}

/** Records the missed entities spread over the outage, as they would happen. */
async function recordWhileDown(sim: OpentactSimulator, outageMs: number): Promise<number> {
  const callIds: (string | undefined)[] = Array.from({ length: GAP_CALLS }, () => undefined);
  const callSteps: (() => void)[] = GAP_CALL_STATES.flatMap((state) =>
    callIds.map((_, c) => () => {
      callIds[c] = sim.recordCallState(state, callIds[c]);
    }),
  );
  // Four SMS, then one call state change: the calls advance together, each in its own order.
  const steps: (() => void)[] = [];
  for (let i = 0; i < GAP_SMS; i++) {
    steps.push(() => void sim.recordInboundSms());
    if (i % 4 === 3 && callSteps.length > 0) {
      steps.push(callSteps.shift()!);
    }
  }
  steps.push(...callSteps);
  const spacing = (outageMs * 0.8) / steps.length;
  const started = nowMs();
  for (let i = 0; i < steps.length; i++) {
    steps[i]();
    await sleep(Math.max(0, started + (i + 1) * spacing - nowMs()));
  }
  return steps.length;
}

export async function runGapRecovery<W extends GapWorld>(
  world: W,
  deps: GapRecoveryDeps<W>,
): Promise<FaultOutcome> {
  const service = await deps.start(world);
  try {
    await deps.waitAuthenticated(world);
    await deps.subscribe(world, service);
    const outageMs = deps.smoke ? 3_000 : 30_000;
    const downAt = nowMs();
    world.sim.refuseConnections(outageMs);
    const missed = await recordWhileDown(world.sim, outageMs);
    await mustWaitUntil(
      () => world.sim.stats.authenticated >= 1,
      outageMs + 30_000,
      'the bridge to reconnect',
    );
    const backAt = nowMs();
    const complete = (): boolean => world.receivers.every((r) => r.arrivals.size >= missed);
    const done = await waitUntil(complete, deps.settleMs, 100);
    const completeAt = nowMs();
    await sleep(deps.smoke ? 500 : 2_000); // late duplicates
    const delivered = world.receivers.reduce((sum, r) => sum + r.arrivals.size, 0);
    const expected = missed * world.receivers.length;
    const lastArrival = Math.max(
      ...world.receivers.flatMap((r) => [...r.arrivals.values()].map((a) => a.at)),
    );
    const notes = [
      `WSS refused for ${fmtNum(outageMs / 1000)} s (down to back: ${fmtNum((backAt - downAt) / 1000)} s); ${GAP_SMS} inbound SMS and ${GAP_CALLS * GAP_CALL_STATES.length} call state changes recorded meanwhile, none sent on a socket`,
      `recovery: last recovered event arrived ${fmtNum((lastArrival - backAt) / 1000, 2)} s after the reconnect`,
    ];
    if (!done) {
      notes.push(`not complete after ${deps.settleMs / 1000} s`);
    }
    return {
      events: missed,
      expected,
      delivered: Math.min(delivered, expected),
      lost: Math.max(0, expected - delivered),
      duplicated:
        world.receivers.reduce((sum, r) => sum + r.duplicates, 0) +
        Math.max(0, delivered - expected),
      // Recovery must deliver each missed state exactly once: no duplicate is explained.
      duplicatesAllowed: 0,
      badSignatures: world.receivers.reduce((sum, r) => sum + r.badSignatures, 0),
      recoveryS: done ? (Math.min(lastArrival, completeAt) - backAt) / 1000 : undefined,
      notes,
    };
  } finally {
    await service.stop();
  }
}
