import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** One bad field of a request (see validation.ts). */
export class FieldProblemsDto {
  @ApiProperty({ example: 'eventTypes[1]', description: 'Path into the request body or query' })
  field!: string;

  @ApiProperty({ type: [String], example: ['"call.*x" is not an event type'] })
  problems!: string[];
}

/** The body of every error the admin API answers with. */
export class ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 404 })
  statusCode!: number;

  @ApiProperty({ example: 'Not Found', description: 'The reason phrase of the status' })
  error!: string;

  @ApiProperty({ example: 'subscription sub_8fJk2LmN0pQrStUvWxYz01Ab not found' })
  message!: string;
}

/** A 400: `errors` names each bad field and every rule it broke. */
export class ValidationErrorResponseDto extends ErrorResponseDto {
  @ApiProperty({ type: 'integer', example: 400 })
  declare statusCode: number;

  @ApiProperty({ example: 'Bad Request' })
  declare error: string;

  @ApiProperty({ example: 'validation failed' })
  declare message: string;

  @ApiPropertyOptional({
    type: [FieldProblemsDto],
    description: 'Absent when the body itself could not be read (not JSON, too deep, too large)',
  })
  errors?: FieldProblemsDto[];
}

interface ErrorExample {
  status: number;
  error: string;
  message: string;
  description: string;
}

const UNAUTHORIZED: ErrorExample = {
  status: HttpStatus.UNAUTHORIZED,
  error: 'Unauthorized',
  message: 'invalid admin API key',
  description: 'Missing or wrong admin API key',
};

const TOO_MANY_FAILURES: ErrorExample = {
  status: HttpStatus.TOO_MANY_REQUESTS,
  error: 'Too Many Requests',
  message: 'too many failed admin API authentications from this address; retry after 60 s',
  description:
    'Too many failed authentications from this client address; `Retry-After` says when to retry',
};

function errorResponse(example: ErrorExample): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status: example.status,
    description: example.description,
    type: ErrorResponseDto,
    example: { statusCode: example.status, error: example.error, message: example.message },
    ...(example.status === 429
      ? {
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before trying again',
              schema: { type: 'integer' },
            },
          },
        }
      : {}),
  });
}

/** 401 and 429: every route behind the admin key answers these. */
export function ApiAdminAuth(): ClassDecorator & MethodDecorator {
  return applyDecorators(errorResponse(UNAUTHORIZED), errorResponse(TOO_MANY_FAILURES));
}

/** A 400 with the field-by-field body. */
export function ApiValidationError(
  example: { field: string; problem: string } = {
    field: 'eventTypes[1]',
    problem: '"call.*x" is not an event type',
  },
): MethodDecorator {
  return ApiResponse({
    status: HttpStatus.BAD_REQUEST,
    description: 'The request is malformed; `errors` names each bad field',
    type: ValidationErrorResponseDto,
    example: {
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
      errors: [{ field: example.field, problems: [example.problem] }],
    },
  });
}

/** A 404 naming what was not found. */
export function ApiNotFoundError(what: string, message: string): MethodDecorator {
  return errorResponse({
    status: HttpStatus.NOT_FOUND,
    error: 'Not Found',
    message,
    description: `No such ${what}`,
  });
}

/** Any other error status, with its example message. */
export function ApiErrorResponse(
  status: number,
  error: string,
  message: string,
  description: string,
): MethodDecorator {
  return errorResponse({ status, error, message, description });
}
