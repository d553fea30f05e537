import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateNested } from 'class-validator';
import {
  DescriptionField,
  EnabledField,
  EventTypesField,
  HeadersField,
  UrlField,
} from './subscription-fields';
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

  @EnabledField()
  enabled?: boolean;
}
