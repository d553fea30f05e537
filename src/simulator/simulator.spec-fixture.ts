import { SimulatorHttpError } from './http-json';

/** The HTTP status `fn` throws as a SimulatorHttpError; -1 for another error, undefined if none. */
export function httpStatusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SimulatorHttpError ? error.status : -1;
  }
  return undefined;
}
