import { ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import type { SubscriptionFilter } from '../subscription.model';
import { IsFilterValue } from './subscription-fields';

const FILTER_VALUE_SCHEMA: ApiPropertyOptions = {
  oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
};

/** Matched against `event.data`; an event lacking a filtered field is not delivered. */
export class SubscriptionFilterDto implements SubscriptionFilter {
  @ApiPropertyOptional({ ...FILTER_VALUE_SCHEMA, example: 'inbound' })
  @IsOptional()
  @IsFilterValue()
  direction?: string | string[];

  @ApiPropertyOptional(FILTER_VALUE_SCHEMA)
  @IsOptional()
  @IsFilterValue()
  from?: string | string[];

  @ApiPropertyOptional(FILTER_VALUE_SCHEMA)
  @IsOptional()
  @IsFilterValue()
  to?: string | string[];

  @ApiPropertyOptional({ ...FILTER_VALUE_SCHEMA, example: ['15550001111', '15550002222'] })
  @IsOptional()
  @IsFilterValue()
  tn?: string | string[];
}
