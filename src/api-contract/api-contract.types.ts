import type { components, operations } from './api-contract.schema';

/**
 * The admin API's JSON by name, for its two clients in this repository: the console (a browser
 * bundle, which cannot import the service's decorated DTOs) and the CLI (which talks to whatever
 * version of the service runs, so it reads the wire contract). Every type is an alias of the
 * schema generated from the OpenAPI document, so a change to a DTO reaches both clients' type
 * checks instead of being copied by hand. Types only: nothing here exists at run time.
 */
type Schemas = components['schemas'];

export type Subscription = Schemas['SubscriptionResponseDto'];
export type CreatedSubscription = Schemas['CreatedSubscriptionResponseDto'];
export type SubscriptionPage = Schemas['SubscriptionListResponseDto'];
/** POST /v1/subscriptions. */
export type SubscriptionInput = Schemas['CreateSubscriptionDto'];
/** PATCH /v1/subscriptions/:id: each field optional, `null` clearing. */
export type SubscriptionPatch = Schemas['UpdateSubscriptionDto'];
export type SubscriptionOrdering = Schemas['SubscriptionOrdering'];
export type SubscriptionFilter = Schemas['SubscriptionFilterDto'];
export type PreviousSecret = Schemas['PreviousSecretDto'];
export type RotatedSecret = Schemas['RotateSecretResponseDto'];
export type TestSent = Schemas['TestEventResponseDto'];

export type DeliveryStatusName = Schemas['DeliveryStatus'];
export type DeliveryAttempt = Schemas['DeliveryAttemptDto'];
export type Delivery = Schemas['DeliveryRecordDto'];
export type DeliveryPage = Schemas['DeliveryListResponseDto'];
/** GET /v1/deliveries: the filters the API applies itself. */
export type DeliveryListQuery = NonNullable<operations['listDeliveries']['parameters']['query']>;
export type ReplayInput = Schemas['ReplayRequestDto'];
export type ReplayResult = Schemas['ReplayResponseDto'];

/** One event as webhooks and the live stream carry it. */
export type WebhookEvent = Schemas['WebhookEventDto'];
export type QuarantineReason = Schemas['QuarantineReason'];
export type QuarantinedFrame = Schemas['QuarantinedFrameDto'];
export type QuarantinePage = Schemas['QuarantineListResponseDto'];

export type Status = Schemas['StatusDto'];
export type ConnectionReport = Schemas['ConnectionReportDto'];
export type OutcomeCounts = Schemas['OutcomeCountsDto'];
