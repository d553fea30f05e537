/**
 * The normalised event types: the public contract of the service. Customers subscribe to these
 * (or to patterns such as `call.*`); Opentact's own frame kinds never leak into it, except as
 * `opentact.<kind>` for kinds this service does not know yet.
 */
export enum EventType {
  CallInitiated = 'call.initiated',
  CallRinging = 'call.ringing',
  CallLive = 'call.live',
  CallHangup = 'call.hangup',
  CallDestroyed = 'call.destroyed',
  CallStateChanged = 'call.state_changed',
  CallAnswered = 'call.answered',
  CallFlow = 'call.flow',
  CallRecording = 'call.recording',
  CallTranscript = 'call.transcript',
  SmsOutbound = 'sms.outbound',
  SmsInbound = 'sms.inbound',
  SmsUpdated = 'sms.updated',
  AccountBalanceChanged = 'account.balance_changed',
  TnOrderChanged = 'tn.order_changed',
  /** Synthetic event sent by `POST /v1/subscriptions/:id/test`. */
  WebhookTest = 'webhook.test',
  /**
   * The bridge's own operational events. Delivered only to subscriptions that name them
   * (`bridge.*` or an exact type): the `*` pattern does not match them.
   */
  BridgeSubscriptionDisabled = 'bridge.subscription.disabled',
  BridgeDeliveryDead = 'bridge.delivery.dead',
  BridgeOpentactDisconnected = 'bridge.opentact.disconnected',
  BridgeOpentactReconnected = 'bridge.opentact.reconnected',
  BridgeEventLogOverBudget = 'bridge.event_log.over_budget',
}

/** Types under this prefix are operational: `*` does not match them. */
export const BRIDGE_PREFIX = 'bridge.';

/** A kind this service does not model yet, passed through under Opentact's own name. */
export type PassthroughEventType = `opentact.${string}`;

export type NormalizedEventType = EventType | PassthroughEventType;

export const PASSTHROUGH_PREFIX = 'opentact.';

export const KNOWN_EVENT_TYPES: readonly string[] = Object.values(EventType);

export function isNormalizedEventType(value: string): value is NormalizedEventType {
  return KNOWN_EVENT_TYPES.includes(value) || /^opentact\.[a-z0-9_.-]+$/i.test(value);
}
