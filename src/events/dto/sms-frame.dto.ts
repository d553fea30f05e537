// @Type reads design-time metadata, so the polyfill must load before these classes do.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { IsFrameId } from './frame-constraints';

export class SmsEntityDto {
  @IsOptional()
  @IsFrameId({ message: 'sms uuid must be a non-empty string of at most 128 characters' })
  uuid?: string;

  @IsOptional()
  @IsString({ message: 'sms type must be a string' })
  type?: string;
}

export const SMS_ENTITY_KEYS = ['uuid', 'type'] as const;

/** Older frames carry the SMS as `payload`; newer ones may put it in an `sms` slot instead. */
export class SmsFrameDto {
  @ValidateIf((frame: SmsFrameDto) => frame.sms !== undefined)
  @IsObject({ message: 'sms must be an object' })
  @ValidateNested()
  @Type(() => SmsEntityDto)
  sms?: SmsEntityDto;

  @ValidateIf((frame: SmsFrameDto) => frame.sms === undefined)
  @IsObject({ message: 'sms needs an object payload or an `sms` slot' })
  @ValidateNested()
  @Type(() => SmsEntityDto)
  payload?: SmsEntityDto;
}
