import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
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

export class CreateSubscriptionDto {
  @UrlField(true)
  url!: string;

  @EventTypesField(true)
  eventTypes!: string[];

  @DescriptionField()
  description?: string;

  @ApiPropertyOptional({
    description:
      'Bring your own signing secret (`whsec_` + base64 of 24–64 bytes); generated when absent.',
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  secret?: string;

  @HeadersField()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: () => SubscriptionFilterDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SubscriptionFilterDto)
  filter?: SubscriptionFilterDto;

  @OrderingField(true)
  ordering?: SubscriptionOrdering;

  @LimitField(MAX_RATE_LIMIT_PER_SECOND, RATE_LIMIT_DESCRIPTION, false)
  rateLimitPerSecond?: number;

  @LimitField(MAX_IN_FLIGHT, MAX_IN_FLIGHT_DESCRIPTION, false)
  maxInFlight?: number;

  @EnabledField()
  enabled?: boolean;
}
