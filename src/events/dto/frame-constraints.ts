import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { isRecord, MAX_ID_LENGTH } from '../frame-fields';

/** Ids become dedupe keys in Redis, so an empty or oversized one is as bad as a missing one. */
export function IsFrameId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFrameId',
      validator: {
        validate: (value: unknown): boolean =>
          typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH,
        defaultMessage: (args?: ValidationArguments): string =>
          `${args?.property ?? 'value'} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      },
    },
    options,
  );
}

/** An envelope uuid: any non-empty string, since eventIdOfUuid makes an id of every one. */
export function IsEventUuid(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEventUuid',
      validator: {
        validate: (value: unknown): boolean => typeof value === 'string' && value.length > 0,
        defaultMessage: (args?: ValidationArguments): string =>
          `${args?.property ?? 'value'} must be a non-empty string`,
      },
    },
    options,
  );
}

/**
 * A call event means nothing without a call to pin it to: the call object needs a uuid or a state,
 * and in newer frames the state may sit in the small `payload` beside it.
 */
export function CarriesCallIdentity(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'carriesCallIdentity',
      validator: {
        validate: (value: unknown, args?: ValidationArguments): boolean => {
          if (!isRecord(value)) {
            return false;
          }
          const sibling: unknown = isRecord(args?.object) ? args.object.payload : undefined;
          return (
            typeof value.uuid === 'string' ||
            typeof value.state === 'string' ||
            (isRecord(sibling) && typeof sibling.state === 'string')
          );
        },
        defaultMessage: (): string => 'call object needs a uuid or a state',
      },
    },
    options,
  );
}

/** Older balance frames send the amount as a bare number; accept `{ balance }` or `{ amount }` too. */
export function IsBalanceAmount(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBalanceAmount',
      validator: {
        validate: (value: unknown): boolean => balanceAmountOf(value) !== undefined,
        defaultMessage: (): string => 'balance payload must be a number',
      },
    },
    options,
  );
}

export function balanceAmountOf(value: unknown): number | undefined {
  const amount = isRecord(value) ? (value.balance ?? value.amount) : value;
  return typeof amount === 'number' && Number.isFinite(amount) ? amount : undefined;
}
