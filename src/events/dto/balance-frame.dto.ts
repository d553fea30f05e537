import { IsBalanceAmount } from './frame-constraints';

/** A balance event is its amount; `source_action` and `message` are read leniently. */
export class BalanceFrameDto {
  @IsBalanceAmount()
  payload!: unknown;
}
