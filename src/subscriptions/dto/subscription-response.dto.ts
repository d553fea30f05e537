import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { SubscriptionOrdering, SubscriptionSource } from '../subscription.model';
import { SubscriptionFilterDto } from './subscription-filter.dto';

export class PreviousSecretDto {
  @ApiProperty({ example: 'whsec_Q2x…' })
  secretPreview!: string;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty({ description: 'Until then this secret still signs every delivery.' })
  expiresAt!: string;
}

/** A subscription as the API shows it: never a full secret, only a preview. */
export class SubscriptionResponseDto {
  @ApiProperty({ example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab' })
  id!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ type: [String] })
  eventTypes!: string[];

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  headers!: Record<string, string>;

  @ApiPropertyOptional({ type: () => SubscriptionFilterDto })
  filter?: SubscriptionFilterDto;

  @ApiProperty({ enum: ['none', 'per-key'] })
  ordering!: SubscriptionOrdering;

  @ApiPropertyOptional({
    description: 'Requests started per second at most, every worker together',
  })
  rateLimitPerSecond?: number;

  @ApiPropertyOptional({ description: 'Requests in flight at most, every worker together' })
  maxInFlight?: number;

  @ApiPropertyOptional({
    description:
      'Deliveries are held back until then: the endpoint answered 429/503 with Retry-After',
  })
  pausedUntil?: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiPropertyOptional()
  disabledReason?: string;

  @ApiPropertyOptional()
  disabledAt?: string;

  @ApiProperty({ enum: ['api', 'file'] })
  source!: SubscriptionSource;

  @ApiProperty()
  createdAt!: string;

  @ApiProperty()
  updatedAt!: string;

  @ApiPropertyOptional({ description: 'Start of the current run of failed deliveries.' })
  failingSince?: string;

  @ApiPropertyOptional()
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
  @ApiProperty({ description: 'The new current signing secret.' })
  secret!: string;

  @ApiProperty({ description: 'The previous secret keeps signing until then.' })
  previousSecretExpiresAt!: string;
}

export class SubscriptionSecretResponseDto {
  @ApiProperty()
  secret!: string;
}

export class FieldProblemsDto {
  @ApiProperty({ example: 'eventTypes[1]' })
  field!: string;

  @ApiProperty({ type: [String] })
  problems!: string[];
}

export class ValidationErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'validation failed' })
  message!: string;

  @ApiProperty({ type: [FieldProblemsDto] })
  errors!: FieldProblemsDto[];
}

export class ErrorResponseDto {
  @ApiProperty({ example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found' })
  error!: string;

  @ApiProperty()
  message!: string;
}
