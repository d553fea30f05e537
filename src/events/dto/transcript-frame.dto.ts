// @Type reads design-time metadata, so the polyfill must load before these classes do.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, ValidateIf, ValidateNested } from 'class-validator';
import { IsFrameId } from './frame-constraints';

export class TranscriptEntityDto {
  @IsOptional()
  @IsFrameId({ message: 'transcript uuid must be a non-empty string of at most 128 characters' })
  uuid?: string;
}

export const TRANSCRIPT_ENTITY_KEYS = ['uuid'] as const;

/**
 * Undocumented kind: only that the transcript arrives as an object, in `payload` or in a slot
 * named `transcript`, `call_transcript` or `call_asr`.
 */
export class TranscriptFrameDto {
  @IsOptional()
  @IsObject({ message: 'transcript must be an object' })
  @ValidateNested()
  @Type(() => TranscriptEntityDto)
  transcript?: TranscriptEntityDto;

  @IsOptional()
  @IsObject({ message: 'call_transcript must be an object' })
  @ValidateNested()
  @Type(() => TranscriptEntityDto)
  call_transcript?: TranscriptEntityDto;

  @IsOptional()
  @IsObject({ message: 'call_asr must be an object' })
  @ValidateNested()
  @Type(() => TranscriptEntityDto)
  call_asr?: TranscriptEntityDto;

  @ValidateIf(
    (frame: TranscriptFrameDto) =>
      frame.transcript === undefined &&
      frame.call_transcript === undefined &&
      frame.call_asr === undefined,
  )
  @IsObject({ message: 'transcript needs an object payload or a `transcript` slot' })
  @ValidateNested()
  @Type(() => TranscriptEntityDto)
  payload?: TranscriptEntityDto;
}
