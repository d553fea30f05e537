import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SubscriptionOrdering, SubscriptionSource } from '../subscription.model';
import { SubscriptionFilterDto } from './subscription-filter.dto';

export class PreviousSecretDto {
  @ApiProperty({ example: 'whsec_Q2x…' })
  secretPreview!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'Until then this secret still signs every delivery.',
  })
  expiresAt!: string;
}

/** A subscription as the API shows it: never a full secret, only a preview. */
export class SubscriptionResponseDto {
  @ApiProperty({ example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab' })
  id!: string;

  @ApiProperty({ example: 'https://example.com/webhooks/opentact' })
  url!: string;

  @ApiProperty({ type: [String], example: ['call.*', 'sms.inbound'] })
  eventTypes!: string[];

  @ApiPropertyOptional({ example: 'CRM call log' })
  description?: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'X-Tenant': 'acme' },
  })
  headers!: Record<string, string>;

  @ApiPropertyOptional({ type: () => SubscriptionFilterDto })
  filter?: SubscriptionFilterDto;

  @ApiProperty({ enum: ['none', 'per-key'], enumName: 'SubscriptionOrdering', example: 'none' })
  ordering!: SubscriptionOrdering;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Requests started per second at most, every worker together',
    example: 50,
  })
  rateLimitPerSecond?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'Requests in flight at most, every worker together',
    example: 10,
  })
  maxInFlight?: number;

  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Deliveries are held back until then: the endpoint answered 429/503 with Retry-After',
  })
  pausedUntil?: string;

  @ApiProperty({ example: true })
  enabled!: boolean;

  @ApiPropertyOptional({
    example: 'admin',
    description: 'Why it is off: admin, file, gone, failing',
  })
  disabledReason?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  disabledAt?: string;

  @ApiProperty({ enum: ['api', 'file'], example: 'api' })
  source!: SubscriptionSource;

  @ApiProperty({ format: 'date-time', example: '2026-11-28T09:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-28T09:00:00.000Z' })
  updatedAt!: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Start of the current run of failed deliveries.',
  })
  failingSince?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  lastSuccessAt?: string;

  @ApiProperty({ example: 'whsec_Q2x…', description: 'The start of the current signing secret.' })
  secretPreview!: string;

  @ApiProperty({
    type: [PreviousSecretDto],
    description: 'Secrets still signing during a rotation.',
  })
  previousSecrets!: PreviousSecretDto[];
}

export class CreatedSubscriptionResponseDto extends SubscriptionResponseDto {
  @ApiProperty({
    description: 'The signing secret; also available later from GET /v1/subscriptions/:id/secret.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret!: string;
}

export class SubscriptionListResponseDto {
  @ApiProperty({ type: [SubscriptionResponseDto] })
  data!: SubscriptionResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last.',
  })
  nextCursor!: string | null;
}

export class RotateSecretResponseDto {
  @ApiProperty({
    description: 'The new current signing secret.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret!: string;

  @ApiProperty({
    format: 'date-time',
    description: 'The previous secret keeps signing until then.',
  })
  previousSecretExpiresAt!: string;
}

export class SubscriptionSecretResponseDto {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' })
  secret!: string;
}
