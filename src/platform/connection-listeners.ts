import type { Logger } from 'pino';
import { errorInfo } from './connection-support';
import type { ConnectionListener } from './opentact-connection.types';

type Hook = keyof ConnectionListener;

/** The connection's listeners (metrics, ingest): each hook is called in turn; a throw is logged. */
export class ConnectionListeners {
  private readonly listeners: ConnectionListener[] = [];

  constructor(private readonly logger: Logger) {}

  add(listener: ConnectionListener): void {
    this.listeners.push(listener);
  }

  notify<K extends Hook>(hook: K, ...args: Parameters<NonNullable<ConnectionListener[K]>>): void {
    for (const listener of this.listeners) {
      try {
        (listener[hook] as ((...a: typeof args) => void) | undefined)?.apply(listener, args);
      } catch (error) {
        this.logger.warn({ err: errorInfo(error), hook }, 'connection listener threw');
      }
    }
  }
}
