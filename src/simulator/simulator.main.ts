import { GENERATIONS } from './frame-factory';
import { OpentactSimulator, SIMULATOR_DEMO_LOGIN } from './opentact-simulator';

/**
 * `npm run simulator`: a stand-alone Opentact for the demo and for manual runs. It is a dev tool
 * outside the Nest app, so it reads its few settings from the environment directly instead of
 * going through the app's validated config.
 */

const MIN_INTERVAL_MS = 10;
/** Caps an unattended run (about 28 h at one round per second) so it cannot loop forever. */
const MAX_SCENARIO_ROUNDS = 100_000;

function intFromEnv(name: string, fallback: number | undefined): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535 * 1_000_000) {
    throw new Error(`${name} must be a non-negative integer, got "${text}"`);
  }
  return value;
}

async function main(): Promise<void> {
  const port = intFromEnv('SIMULATOR_PORT', 8787);
  const controlPort = intFromEnv('SIMULATOR_CONTROL_PORT', 8788);
  const intervalMs = intFromEnv('SIMULATOR_SCENARIO_INTERVAL_MS', undefined);
  const simulator = new OpentactSimulator({
    port,
    controlPort,
    host: process.env.SIMULATOR_HOST || undefined,
    email: process.env.SIMULATOR_EMAIL || undefined,
    password: process.env.SIMULATOR_PASSWORD || undefined,
  });
  await simulator.start();

  const email = process.env.SIMULATOR_EMAIL || SIMULATOR_DEMO_LOGIN.email;
  const password = process.env.SIMULATOR_PASSWORD || SIMULATOR_DEMO_LOGIN.password;
  const lines = [
    'Opentact simulator running',
    `  REST     ${simulator.restUrl}`,
    `  WSS      ${simulator.wssUrl}`,
    `  control  ${simulator.controlUrl ?? '(disabled)'}`,
    // Demo-only credentials, printed so a newcomer can point the bridge at the simulator.
    `  login    ${email} / ${password}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let timer: NodeJS.Timeout | undefined;
  if (intervalMs !== undefined && intervalMs > 0) {
    let round = 0;
    timer = setInterval(
      () => {
        const generation = GENERATIONS[round % GENERATIONS.length];
        const frames = simulator.emitScenario('all', generation);
        process.stdout.write(`emitted ${frames.length} ${generation} frames (round ${round})\n`);
        round++;
        if (round >= MAX_SCENARIO_ROUNDS && timer) {
          clearInterval(timer);
        }
      },
      Math.max(MIN_INTERVAL_MS, intervalMs),
    );
    process.stdout.write(`  scenario 'all' every ${Math.max(MIN_INTERVAL_MS, intervalMs)} ms\n`);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    if (timer) {
      clearInterval(timer);
    }
    process.stdout.write(`${signal}: stopping simulator\n`);
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
