import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateNested } from 'class-validator';
import {
  DescriptionField,
  EnabledField,
  EventTypesField,
  HeadersField,
  LimitField,
  MAX_IN_FLIGHT,
  MAX_IN_FLIGHT_DESCRIPTION,
  MAX_RATE_LIMIT_PER_SECOND,
  OrderingField,
  RATE_LIMIT_DESCRIPTION,
  UrlField,
} from './subscription-fields';
import type { SubscriptionOrdering } from '../subscription.model';
import { SubscriptionFilterDto } from './subscription-filter.dto';

/**
 * PATCH: absent fields stay as they are; `description: null` and `filter: null` clear them.
 * The secret changes only through rotate-secret.
 */
export class UpdateSubscriptionDto {
  @UrlField(false)
  url?: string;

  @EventTypesField(false)
  eventTypes?: string[];

  @DescriptionField()
  description?: string | null;

  @HeadersField()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: () => SubscriptionFilterDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionFilterDto)
  filter?: SubscriptionFilterDto | null;

  @OrderingField(false)
  ordering?: SubscriptionOrdering;

  @LimitField(MAX_RATE_LIMIT_PER_SECOND, RATE_LIMIT_DESCRIPTION, true)
  rateLimitPerSecond?: number | null;

  @LimitField(MAX_IN_FLIGHT, MAX_IN_FLIGHT_DESCRIPTION, true)
  maxInFlight?: number | null;

  @EnabledField()
  enabled?: boolean;
}
