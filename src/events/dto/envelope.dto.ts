import { IsOptional, MaxLength } from 'class-validator';
import { IsEventUuid } from './frame-constraints';

export const MAX_TYPE_LENGTH = 128;

/**
 * What every frame must carry whatever its kind. A string `type` is checked before this runs (its
 * absence has its own quarantine reason); the rest of the envelope is read leniently.
 */
export class EnvelopeDto {
  @MaxLength(MAX_TYPE_LENGTH)
  type!: string;

  /**
   * The newer envelope's event id: the dedupe key, as is when a header carries it unchanged, else
   * hashed (see eventIdOfUuid). Any length: the frame size bounds it, and the hash bounds the id.
   */
  @IsOptional()
  @IsEventUuid()
  uuid?: string;
}

export const ENVELOPE_KEYS = ['type', 'uuid'] as const;
