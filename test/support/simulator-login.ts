import {
  type OpentactSimulator,
  SIMULATOR_DEMO_LOGIN,
} from '../../src/simulator/opentact-simulator';

/** The login every test, bench and the demo give the bundled simulator (its demo default). */
export const SIMULATOR_LOGIN: { email: string; password: string } = { ...SIMULATOR_DEMO_LOGIN };

/** The service's environment to reach `sim` and log in to it. */
export function opentactEnv(
  sim: Pick<OpentactSimulator, 'restUrl' | 'wssUrl'>,
  credentials: { email: string; password: string } = SIMULATOR_LOGIN,
): Record<string, string> {
  return {
    OPENTACT_REST_URL: sim.restUrl,
    OPENTACT_WSS_URL: sim.wssUrl,
    OPENTACT_EMAIL: credentials.email,
    OPENTACT_PASSWORD: credentials.password,
  };
}
