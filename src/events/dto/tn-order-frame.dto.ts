// @Type reads design-time metadata, so the polyfill must load before these classes do.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { IsFrameId } from './frame-constraints';

export class TnOrderEntityDto {
  @IsOptional()
  @IsFrameId({ message: 'order uuid must be a non-empty string of at most 128 characters' })
  uuid?: string;

  @IsOptional()
  @IsString({ message: 'order state must be a string' })
  state?: string;
}

export const TN_ORDER_ENTITY_KEYS = ['uuid', 'state'] as const;

/** Known only from integration code reading `payload.uuid` and `payload.state`; a `tn_order` slot is accepted too. */
export class TnOrderFrameDto {
  @ValidateIf((frame: TnOrderFrameDto) => frame.tn_order !== undefined)
  @IsObject({ message: 'tn_order must be an object' })
  @ValidateNested()
  @Type(() => TnOrderEntityDto)
  tn_order?: TnOrderEntityDto;

  @ValidateIf((frame: TnOrderFrameDto) => frame.tn_order === undefined)
  @IsObject({ message: 'tn_order needs an object payload' })
  @ValidateNested()
  @Type(() => TnOrderEntityDto)
  payload?: TnOrderEntityDto;
}
