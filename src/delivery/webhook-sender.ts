import { Injectable } from '@nestjs/common';
import type { Subscription } from '../subscriptions/subscription.model';
import { activeSecrets } from '../subscriptions/subscription-secrets';
import { WebhookSigner } from '../webhook-security/webhook-signer';
import { type HttpAttemptResult, WebhookHttpClient } from './webhook-http.client';

/** What is sent: the event's id (the `webhook-id`) and its stored body, sent byte for byte. */
export interface OutgoingWebhook {
  eventId: string;
  body: string;
}

/**
 * Signs and sends one webhook: the subscription's custom headers, the Standard Webhooks headers
 * (`webhook-id` stable across retries, `webhook-timestamp` fresh on each attempt, one signature
 * per live secret), over the subscription's own connection pool. A network failure comes back
 * as data; a secret that cannot sign throws (InvalidSecretError).
 */
@Injectable()
export class WebhookSender {
  constructor(
    private readonly http: WebhookHttpClient,
    private readonly signer: WebhookSigner,
  ) {}

  send(
    subscription: Pick<Subscription, 'id' | 'url' | 'headers' | 'secrets'>,
    webhook: OutgoingWebhook,
    now: Date,
  ): Promise<HttpAttemptResult> {
    const nowMs = now.getTime();
    const timestampSec = Math.floor(nowMs / 1000);
    const headers: Record<string, string> = {
      ...subscription.headers,
      'webhook-id': webhook.eventId,
      'webhook-timestamp': String(timestampSec),
      'webhook-signature': this.signer.sign({
        msgId: webhook.eventId,
        timestampSec,
        body: webhook.body,
        secrets: activeSecrets(subscription, nowMs),
      }),
    };
    return this.http.post(subscription.url, headers, webhook.body, subscription.id);
  }

  /** The subscription is gone for good: release its connections. */
  forget(subscriptionId: string): void {
    this.http.forget(subscriptionId);
  }
}
