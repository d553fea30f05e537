import { type ArgumentMetadata, BadRequestException, ValidationPipe } from '@nestjs/common';
import { isISO8601, ValidateBy, type ValidationError } from 'class-validator';

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
 * How deeply a request body may nest objects and arrays. The deepest body the API takes (a
 * subscription's filter value list) is 3 levels; class-transformer and class-validator recurse
 * once per level, so a body nested thousands deep would overflow the stack (a 500) instead.
 */
export const MAX_BODY_DEPTH = 16;

/** Depth of a parsed JSON value (a scalar is 0), walked without recursion; stops past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) {
      continue;
    }
    const level = depth + 1;
    deepest = Math.max(deepest, level);
    if (deepest > limit) {
      return deepest;
    }
    for (const child of Object.values(current)) {
      stack.push([child, level]);
    }
  }
  return deepest;
}

/** A 400 for a body that cannot be validated at all. */
export class UnreadableBodyError extends BadRequestException {
  readonly code = 'BODY_TOO_DEEP';
  constructor(message: string) {
    super({ statusCode: 400, error: 'Bad Request', message });
  }
}

class DepthLimitedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && jsonDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      throw new UnreadableBodyError(
        `the request body nests objects or arrays more than ${MAX_BODY_DEPTH} levels deep`,
      );
    }
    return (await super.transform(value, metadata)) as unknown;
  }
}

/**
 * A query string of digits as a number; anything else is left for @IsInt to refuse, so `1e2`,
 * `0x10` and ` 5` are errors rather than silently read as numbers.
 */
export const digitsToNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;

/**
 * An ISO-8601 date-time that is also a real instant: class-validator's strict check admits forms
 * such as week dates (`2026-W01`) that Date.parse cannot read, which would reach the services as
 * NaN.
 */
export function IsIsoTimestamp(): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIsoTimestamp',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          isISO8601(value, { strict: true }) &&
          Number.isFinite(Date.parse(value)),
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an ISO-8601 date and time such as 2026-11-28T09:00:00Z`,
      },
    },
    {},
  );
}

/**
 * The global pipe: unknown fields are refused rather than dropped, so a typo such as `eventType`
 * is reported instead of silently ignored. No implicit conversion: it would turn "false" into
 * `true`; DTOs convert the few query strings they need explicitly. Bodies nested deeper than
 * MAX_BODY_DEPTH are refused before any of that runs.
 */
export function createValidationPipe(): ValidationPipe {
  return new DepthLimitedValidationPipe({
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
