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

export class TooManySubscriptionsError extends ConflictException {
  readonly code = 'TOO_MANY_SUBSCRIPTIONS';
  constructor(readonly maxCount: number) {
    super({
      statusCode: 409,
      error: 'Conflict',
      message:
        `MAX_SUBSCRIPTIONS (${maxCount}) subscriptions exist already: delete one you no longer ` +
        'need, or raise MAX_SUBSCRIPTIONS',
    });
  }
}
