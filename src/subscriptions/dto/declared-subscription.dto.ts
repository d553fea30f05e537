import { IsString, Matches } from 'class-validator';
import { CreateSubscriptionDto } from './create-subscription.dto';

export const DECLARED_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** One entry of SUBSCRIPTIONS_FILE: the API's create body plus a stable id chosen by the operator. */
export class DeclaredSubscriptionDto extends CreateSubscriptionDto {
  @IsString()
  @Matches(DECLARED_ID, {
    message: 'id must be 1 to 64 letters, digits, _ . - and start with a letter or digit',
  })
  id!: string;
}
