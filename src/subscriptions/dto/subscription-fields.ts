import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ORDERINGS } from '../subscription.model';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
  IsString,
  IsUrl,
  MaxLength,
  MinLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

export const MAX_EVENT_TYPES = 100;
export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_HEADERS = 20;
export const MAX_URL_LENGTH = 2048;
export const MAX_FILTER_VALUES = 100;
export const MAX_FILTER_VALUE_LENGTH = 64;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object of string → string with at most `maxKeys` entries (names and values checked later). */
export function IsStringMap(maxKeys: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringMap',
      validator: {
        validate: (value: unknown) =>
          isPlainObject(value) &&
          Object.keys(value).length <= maxKeys &&
          Object.values(value).every((v) => typeof v === 'string'),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an object of at most ${maxKeys} string values`,
      },
    },
    options,
  );
}

/** A string, or a non-empty list of strings: one value to equal, or several to choose from. */
export function IsFilterValue(options?: ValidationOptions): PropertyDecorator {
  const ok = (v: unknown): boolean =>
    typeof v === 'string' && v.length > 0 && v.length <= MAX_FILTER_VALUE_LENGTH;
  return ValidateBy(
    {
      name: 'isFilterValue',
      validator: {
        validate: (value: unknown) =>
          ok(value) ||
          (Array.isArray(value) &&
            value.length > 0 &&
            value.length <= MAX_FILTER_VALUES &&
            value.every(ok)),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be a string or a list of 1 to ${MAX_FILTER_VALUES} strings ` +
          `(each 1 to ${MAX_FILTER_VALUE_LENGTH} characters)`,
      },
    },
    options,
  );
}

export function UrlField(required: boolean): PropertyDecorator {
  return applyDecorators(
    required
      ? ApiProperty({ example: 'https://example.com/webhooks/opentact', maxLength: MAX_URL_LENGTH })
      : ApiPropertyOptional({ example: 'https://example.com/webhooks/opentact' }),
    ...(required ? [] : [IsOptional()]),
    IsString(),
    MaxLength(MAX_URL_LENGTH),
    IsUrl(
      {
        protocols: ['http', 'https'],
        require_protocol: true,
        require_valid_protocol: true,
        require_tld: false,
        allow_underscores: true,
      },
      { message: 'url must be an absolute http:// or https:// URL' },
    ),
  );
}

export function EventTypesField(required: boolean): PropertyDecorator {
  return applyDecorators(
    (required ? ApiProperty : ApiPropertyOptional)({
      type: [String],
      example: ['call.*', 'sms.inbound'],
      description:
        'Event types, `opentact.<kind>`, `*` for everything, or a group pattern such as `call.*`.',
      maxItems: MAX_EVENT_TYPES,
    }),
    ...(required ? [] : [IsOptional()]),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_EVENT_TYPES),
    IsString({ each: true }),
    MinLength(1, { each: true }),
    MaxLength(200, { each: true }),
  );
}

export function DescriptionField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      maxLength: MAX_DESCRIPTION_LENGTH,
      nullable: true,
      example: 'CRM call log',
    }),
    IsOptional(),
    IsString(),
    MaxLength(MAX_DESCRIPTION_LENGTH),
  );
}

export function HeadersField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string' },
      example: { 'X-Tenant': 'acme' },
      description: `Extra request headers, at most ${MAX_HEADERS}; the webhook-* and transport headers are reserved.`,
    }),
    IsOptional(),
    IsStringMap(MAX_HEADERS),
  );
}

export function EnabledField(): PropertyDecorator {
  // No conversion: the string "false" must be refused, not read as `true`.
  return applyDecorators(ApiPropertyOptional({ type: Boolean }), IsOptional(), IsBoolean());
}

export const MAX_RATE_LIMIT_PER_SECOND = 10_000;
export const MAX_IN_FLIGHT = 1_000;

/**
 * No `default` keyword in request schemas: generated clients (openapi-typescript) make a property
 * with a default required, and on PATCH an absent field keeps the stored value anyway.
 */
export function OrderingField(onCreate: boolean): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: ORDERINGS,
      enumName: 'SubscriptionOrdering',
      example: 'per-key',
      description:
        '`per-key`: deliveries that share an ordering key (data.callId for call.*, ' +
        'data.messageId for sms.*, data.orderId for tn.*, the account for account.*) are sent ' +
        'one at a time, in the order the events were ingested. ' +
        (onCreate ? 'Absent: `none`.' : 'Absent: unchanged.'),
    }),
    IsOptional(),
    IsIn(ORDERINGS, { message: `ordering must be one of ${ORDERINGS.join(', ')}` }),
  );
}

/** A positive whole number up to `max`; `null` on update clears the limit. */
export function LimitField(max: number, description: string, nullable: boolean): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: max, nullable, description }),
    IsOptional(),
    IsInt(),
    Min(1),
    Max(max),
  );
}

export const RATE_LIMIT_DESCRIPTION =
  'Requests started per second at most, across every worker process (a sliding one-second window).';
export const MAX_IN_FLIGHT_DESCRIPTION = 'Requests in flight at most, across every worker process.';
