import { BadRequestException, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/** One bad field of a request, with every rule it broke. */
export interface FieldProblems {
  /** Path into the body: `url`, `eventTypes[1]`, `filter.direction`, `headers.X-Tenant`. */
  field: string;
  problems: string[];
}

export interface ValidationErrorBody {
  statusCode: 400;
  error: 'Bad Request';
  message: 'validation failed';
  errors: FieldProblems[];
}

/**
 * A 400 whose body names each bad field. Thrown by the validation pipe and by services for rules
 * that need more than the DTO (SSRF, known event types), so clients see one error shape.
 */
export class RequestValidationError extends BadRequestException {
  readonly code = 'VALIDATION_FAILED';

  constructor(readonly errors: FieldProblems[]) {
    super({
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
      errors,
    } satisfies ValidationErrorBody);
  }
}

function childPath(parent: string, property: string, parentValue: unknown): string {
  if (parent === '') {
    return property;
  }
  return Array.isArray(parentValue) && /^\d+$/.test(property)
    ? `${parent}[${property}]`
    : `${parent}.${property}`;
}

/** Turns class-validator's tree into one entry per bad field, nested fields by their full path. */
export function flattenValidationErrors(
  errors: readonly ValidationError[],
  parent = '',
  parentValue?: unknown,
): FieldProblems[] {
  const out: FieldProblems[] = [];
  for (const error of errors) {
    const field = childPath(parent, error.property, parentValue);
    const problems = Object.values(error.constraints ?? {});
    if (problems.length > 0) {
      out.push({ field, problems });
    }
    if (error.children && error.children.length > 0) {
      out.push(...flattenValidationErrors(error.children, field, error.value));
    }
  }
  return out;
}

/**
 * The global pipe: unknown fields are refused rather than dropped, so a typo such as `eventType`
 * is reported instead of silently ignored. No implicit conversion: it would turn "false" into
 * `true`; DTOs convert the few query strings they need explicitly.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: true },
    exceptionFactory: (errors: ValidationError[]) =>
      new RequestValidationError(flattenValidationErrors(errors)),
  });
}
