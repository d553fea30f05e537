// @Type reads design-time metadata, so the polyfill must load before these classes do.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateIf, ValidateNested } from 'class-validator';
import { IsFrameId } from './frame-constraints';

export class CallRecordEntityDto {
  @IsOptional()
  @IsFrameId({ message: 'recording uuid must be a non-empty string of at most 128 characters' })
  uuid?: string;
}

export const CALL_RECORD_ENTITY_KEYS = ['uuid'] as const;

/** Undocumented kind: only that the recording arrives as an object, in `payload` or a `call_record` slot. */
export class CallRecordFrameDto {
  @ValidateIf((frame: CallRecordFrameDto) => frame.call_record !== undefined)
  @IsObject({ message: 'call_record must be an object' })
  @ValidateNested()
  @Type(() => CallRecordEntityDto)
  call_record?: CallRecordEntityDto;

  @ValidateIf((frame: CallRecordFrameDto) => frame.call_record === undefined)
  @IsObject({ message: 'call_record needs an object payload or a `call_record` slot' })
  @ValidateNested()
  @Type(() => CallRecordEntityDto)
  payload?: CallRecordEntityDto;
}
