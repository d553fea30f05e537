export interface SimulatorStats {
  /** Open WSS connections, authenticated or not. */
  connections: number;
  /** WSS connections ever accepted (reconnect tests count these). */
  connectionsTotal: number;
  authenticated: number;
  authAttempts: number;
  authRefused: number;
  /** Socket-level sends of emitted frames (auth acknowledgements excluded). */
  framesSent: number;
  /** Sends made while the socket already had more than 1 MiB queued: counted, never dropped. */
  backpressuredSends: number;
  /** Frames not sent because the user has no usable subscription of their type (filtering on). */
  framesFiltered: number;
  /** Types with an active, unexpired subscription. */
  subscriptions: string[];
  subscriptionRequests: number;
  /** Requests to the SMS and call searches, failed ones included. */
  searchRequests: number;
  /** WSS upgrades refused while `refuseConnections` was in force. */
  connectionsRefused: number;
}

/** The counting part of the stats: one object the WSS server, sender and REST API add to. */
export type SimulatorCounters = Omit<
  SimulatorStats,
  'connections' | 'authenticated' | 'subscriptions'
>;

export function newCounters(): SimulatorCounters {
  return {
    connectionsTotal: 0,
    authAttempts: 0,
    authRefused: 0,
    framesSent: 0,
    backpressuredSends: 0,
    framesFiltered: 0,
    subscriptionRequests: 0,
    searchRequests: 0,
    connectionsRefused: 0,
  };
}
