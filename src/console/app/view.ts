import { type ApiClient, UnauthorizedError } from './api.client';
import { notice, replace } from './dom';

export interface ViewContext {
  api: ApiClient;
  /** The admin key, for the live stream's auth message. */
  key: string;
  /** The query of the location hash (`#/deliveries?status=failed`). */
  params: URLSearchParams;
  /** Go to another view (a hash such as `#/deliveries?subscriptionId=...`). */
  navigate(hash: string): void;
  signOut(message: string): void;
}

/** Renders a view into `root`; returns what stops its timers and sockets when the view is left. */
export type View = (root: HTMLElement, ctx: ViewContext) => () => void;

/**
 * Runs an action and shows how it went in `outlet`: an API refusal as an alert, a 401 not at all
 * (the console has already signed out). Resolves to the action's value, or undefined.
 */
export async function attempt<T>(
  outlet: HTMLElement,
  action: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) {
      replace(outlet, notice('error', error instanceof Error ? error.message : String(error)));
    }
    return undefined;
  }
}

/** Calls `tick` now and every `ms` after the previous call finished, until stopped. */
export function every(ms: number, tick: () => Promise<void>): () => void {
  let stopped = false;
  let timer: number | undefined;
  const loop = async (): Promise<void> => {
    if (stopped) {
      return;
    }
    if (!document.hidden) {
      await tick().catch(() => undefined);
    }
    if (!stopped) {
      timer = window.setTimeout(() => void loop(), ms);
    }
  };
  void loop();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
