import { ConflictException, NotFoundException } from '@nestjs/common';

export class SubscriptionNotFoundError extends NotFoundException {
  readonly code = 'SUBSCRIPTION_NOT_FOUND';
  constructor(readonly id: string) {
    super({ statusCode: 404, error: 'Not Found', message: `subscription ${id} not found` });
  }
}

export class SubscriptionExistsError extends ConflictException {
  readonly code = 'SUBSCRIPTION_EXISTS';
  constructor(readonly id: string) {
    super({ statusCode: 409, error: 'Conflict', message: `subscription ${id} already exists` });
  }
}
