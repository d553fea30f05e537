// @Type reads design-time metadata, so the polyfill must load before these classes do.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsObject, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { isRecord } from '../frame-fields';
import { CarriesCallIdentity, IsFrameId } from './frame-constraints';

/** The parts of a call entity that identify it; everything else is read leniently. */
export class CallEntityDto {
  @IsOptional()
  @IsFrameId({ message: 'call uuid must be a non-empty string of at most 128 characters' })
  uuid?: string;

  @IsOptional()
  @IsString({ message: 'call state must be a string' })
  state?: string;
}

export const CALL_ENTITY_KEYS = ['uuid', 'state'] as const;

const NO_CALL = 'call_state needs a call object with a uuid or a state, in `call` or `payload`';

/**
 * `call_state` in both generations: newer frames carry the call in `call` and `{ state, duration }`
 * in `payload`; older frames carry the call itself as `payload`.
 */
export class CallStateFrameDto {
  @ValidateIf((frame: CallStateFrameDto) => frame.call !== undefined)
  @CarriesCallIdentity()
  @IsObject({ message: 'call must be an object' })
  @ValidateNested()
  @Type(() => CallEntityDto)
  call?: CallEntityDto;

  @ValidateIf((frame: CallStateFrameDto) => frame.call === undefined)
  @CarriesCallIdentity({ message: NO_CALL })
  @IsObject({ message: NO_CALL })
  @ValidateNested()
  @Type(() => CallEntityDto)
  payload?: CallEntityDto;
}

export class CallFlowPayloadDto {
  @IsOptional()
  @IsObject({ message: 'call must be an object' })
  @ValidateNested()
  @Type(() => CallEntityDto)
  call?: CallEntityDto;
}

/**
 * `call_flow` in both generations: newer frames carry `call` and a `call_flow` record; older ones
 * carry `payload.call`, `payload.command` and a top-level `command`. Without any of those slots
 * there is nothing to say about which call or command the frame is about.
 */
export class CallFlowFrameDto {
  @IsOptional()
  @IsObject({ message: 'call must be an object' })
  @ValidateNested()
  @Type(() => CallEntityDto)
  call?: CallEntityDto;

  @ValidateIf(
    (frame: CallFlowFrameDto) =>
      !isRecord(frame.call) && !isRecord(frame.call_flow) && typeof frame.command !== 'string',
  )
  @IsObject({
    message: 'call_flow needs a `call` or `call_flow` object, an object payload or a command',
  })
  @ValidateNested()
  @Type(() => CallFlowPayloadDto)
  payload?: CallFlowPayloadDto;

  @IsOptional()
  @IsObject({ message: 'call_flow must be an object' })
  call_flow?: Record<string, unknown>;

  @IsOptional()
  @IsString({ message: 'command must be a string' })
  command?: string;
}
