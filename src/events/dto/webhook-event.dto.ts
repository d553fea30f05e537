import { ApiProperty } from '@nestjs/swagger';

/**
 * The body of every webhook, every live-stream message and GET /v1/events/:id: one normalised
 * Opentact event. Documentation only; the service builds it in events/webhook-body.ts.
 */
export class WebhookEventDto {
  @ApiProperty({
    description:
      "Stable event id: Opentact's uuid when it is 1 to 128 visible ASCII characters, `u_` and " +
      'a hash of any other uuid (raw.uuid keeps it as sent), or `h_` and a hash of the ' +
      "frame's identifying content when it has no uuid. The `webhook-id` header carries it " +
      'too; deduplicate on it.',
    example: '128dff9e-5f28-4a3c-9221-ee2593f71289',
  })
  id!: string;

  @ApiProperty({
    description: 'Normalised type, e.g. call.live, sms.inbound, opentact.<kind> for unknown kinds',
    example: 'call.live',
  })
  type!: string;

  @ApiProperty({ description: 'When it happened, per Opentact (ISO-8601)', format: 'date-time' })
  occurredAt!: string;

  @ApiProperty({ description: 'When the bridge read the frame (ISO-8601)', format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({
    description: 'Typed fields of the event; which ones depends on the type (see the README)',
    type: 'object',
    additionalProperties: true,
  })
  data!: Record<string, unknown>;

  @ApiProperty({
    description: 'The frame exactly as Opentact sent it',
    type: 'object',
    additionalProperties: true,
  })
  raw!: Record<string, unknown>;
}
