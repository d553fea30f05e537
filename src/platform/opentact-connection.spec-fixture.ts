import { type Clock, SystemClock } from '../common/clock';
import type { SocketFactory } from './live-socket';
import { type ConnectionOptions, OpentactConnection } from './opentact-connection.service';
import type { ConnectionListener, FrameSink } from './opentact-connection.types';
import type { OpentactSubscriptionsClient } from './opentact-subscriptions.client';
import type { TokenProvider } from './token-provider.service';

/** Everything a spec hands the connection, in one object. Spec-only: not built. */
export interface ConnectionSpecDeps extends ConnectionOptions {
  tokens: Pick<TokenProvider, 'getToken' | 'canRefresh'>;
  rest: Pick<OpentactSubscriptionsClient, 'ensureSubscriptions'>;
  sockets: SocketFactory;
  sink: FrameSink;
  listener?: ConnectionListener;
  /** The system clock (faked by jest's timers) unless given. */
  clock?: Clock;
}

export function connectionFrom(deps: ConnectionSpecDeps): OpentactConnection {
  const { tokens, rest, sockets, sink, listener, clock, ...options } = deps;
  const connection = new OpentactConnection(
    options,
    tokens,
    rest,
    sockets,
    sink,
    clock ?? new SystemClock(),
  );
  if (listener) {
    connection.addListener(listener);
  }
  return connection;
}
