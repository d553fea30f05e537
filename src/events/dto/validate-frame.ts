import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError, type ValidatorOptions } from 'class-validator';
import { compileDto } from './compiled-validator';

const OPTIONS: ValidatorOptions = {
  stopAtFirstError: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

/**
 * Validates the slots of a frame that a kind needs. Callers pass only those slots, picked out of
 * the frame, so class-transformer copies a handful of keys rather than the whole call entity.
 * Returns a one-line problem naming the field (e.g. `payload: balance payload must be a number`),
 * or undefined when the slots are valid.
 */
export function frameProblem<T extends object>(
  dto: ClassConstructor<T>,
  slots: Record<string, unknown>,
): string | undefined {
  // Almost every frame is valid: the compiled check says so without instantiating anything;
  // class-validator itself runs only to explain a failure (or for a shape it does not model).
  const check = compileDto(dto);
  if (check !== undefined && check(slots) === true) {
    return undefined;
  }
  const errors = validateSync(plainToInstance(dto, slots), OPTIONS);
  return errors.length === 0 ? undefined : describe(errors[0], '');
}

function describe(error: ValidationError, parent: string): string {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const message = Object.values(error.constraints ?? {})[0];
  if (message !== undefined) {
    return `${path}: ${message}`;
  }
  const child = error.children?.[0];
  return child === undefined ? `${path}: is invalid` : describe(child, path);
}

/**
 * Copies only `keys` from a slot, leaving non-objects as they are so the DTO can say what is wrong
 * with them.
 */
export function pick(value: unknown, keys: readonly string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return value;
  }
  const source = value as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const key of keys) {
    if (source[key] !== undefined) {
      picked[key] = source[key];
    }
  }
  return picked;
}
