import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { Audit } from '../api/audit.interceptor';
import {
  ApiAdminAuth,
  ApiErrorResponse,
  ApiNotFoundError,
  ApiValidationError,
} from '../api/error-response.dto';
import { DeliveryAdminService } from './delivery-admin.service';
import type { DeliveryRecord } from './delivery.model';
import { RequestValidationError } from '../api/validation';
import { InvalidDeliveryCursorError } from './delivery-record.repository';
import { ListDeliveriesQueryDto, ReplayRequestDto } from './dto/delivery-query.dto';
import {
  DeliveryListResponseDto,
  DeliveryRecordDto,
  ReplayResponseDto,
  TestEventResponseDto,
} from './dto/delivery-response.dto';

const DELIVERY_ID = {
  name: 'id',
  description: 'The delivery id',
  example: 'd_128dff9e-5f28-4a3c-9221-ee2593f71289~~sub_8fJk2LmN0pQrStUvWxYz01Ab',
};
const SUBSCRIPTION_ID = {
  name: 'id',
  description: 'The subscription id',
  example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab',
};
const DELIVERY_NOT_FOUND = (): MethodDecorator =>
  ApiNotFoundError(
    'delivery',
    'delivery d_128dff9e-5f28-4a3c-9221-ee2593f71289~~sub_8fJk2LmN0pQrStUvWxYz01Ab not found (unknown, or older than the retention window)',
  );
const SUBSCRIPTION_NOT_FOUND = (): MethodDecorator =>
  ApiNotFoundError('subscription', 'subscription sub_8fJk2LmN0pQrStUvWxYz01Ab not found');

@ApiTags('deliveries')
@ApiBearerAuth()
@ApiAdminAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly admin: DeliveryAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List deliveries, newest first', operationId: 'listDeliveries' })
  @ApiResponse({ status: 200, type: DeliveryListResponseDto, description: 'One page' })
  @ApiValidationError({
    field: 'cursor',
    problem: 'cursor is not one returned by a previous page of GET /v1/deliveries',
  })
  async list(
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    const { since, until, ...rest } = query;
    try {
      return await this.admin.list({
        ...rest,
        sinceMs: since === undefined ? undefined : Date.parse(since),
        untilMs: until === undefined ? undefined : Date.parse(until),
      });
    } catch (error) {
      if (error instanceof InvalidDeliveryCursorError) {
        throw new RequestValidationError([{ field: 'cursor', problems: [error.message] }]);
      }
      throw error;
    }
  }

  @Get(':id')
  @ApiOperation({
    summary: 'One delivery with every attempt (status, duration, error, response body)',
    operationId: 'getDelivery',
  })
  @ApiParam(DELIVERY_ID)
  @ApiResponse({ status: 200, type: DeliveryRecordDto, description: 'The delivery' })
  @DELIVERY_NOT_FOUND()
  get(@Param('id') id: string): Promise<DeliveryRecord> {
    return this.admin.get(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send this delivery again now, with a fresh retry schedule',
    operationId: 'retryDelivery',
  })
  @ApiParam(DELIVERY_ID)
  @ApiResponse({ status: 202, type: DeliveryRecordDto, description: 'Queued again' })
  @DELIVERY_NOT_FOUND()
  @ApiErrorResponse(
    409,
    'Conflict',
    'delivery d_128dff9e-5f28-4a3c-9221-ee2593f71289~~sub_8fJk2LmN0pQrStUvWxYz01Ab is being attempted right now',
    'The delivery is being attempted right now; try again in a moment',
  )
  @Audit('delivery.retry')
  retry(@Param('id') id: string): Promise<DeliveryRecord> {
    return this.admin.retry(id);
  }
}

@ApiTags('subscriptions')
@ApiBearerAuth()
@ApiAdminAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/subscriptions')
export class SubscriptionDeliveriesController {
  constructor(private readonly admin: DeliveryAdminService) {}

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deliver a synthetic webhook.test event to this subscription',
    operationId: 'sendTestEvent',
  })
  @ApiParam(SUBSCRIPTION_ID)
  @ApiResponse({ status: 202, type: TestEventResponseDto, description: 'Queued' })
  @SUBSCRIPTION_NOT_FOUND()
  @ApiErrorResponse(
    409,
    'Conflict',
    'subscription sub_8fJk2LmN0pQrStUvWxYz01Ab is disabled; enable it before sending a test event',
    'The subscription is disabled',
  )
  @Audit('subscription.test')
  test(@Param('id') id: string): Promise<{ eventId: string; deliveryId: string }> {
    return this.admin.sendTest(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay failed deliveries, or every retained event, of a time window',
    operationId: 'replaySubscription',
  })
  @ApiParam(SUBSCRIPTION_ID)
  @ApiResponse({ status: 202, type: ReplayResponseDto, description: 'Queued' })
  @ApiValidationError({ field: 'until', problem: 'until must not be before since' })
  @SUBSCRIPTION_NOT_FOUND()
  @Audit('subscription.replay')
  replay(@Param('id') id: string, @Body() body: ReplayRequestDto): Promise<{ replayed: number }> {
    const sinceMs = Date.parse(body.since);
    const untilMs = body.until ? Date.parse(body.until) : Date.now();
    if (untilMs < sinceMs) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: 'validation failed',
        errors: [{ field: 'until', problems: ['until must not be before since'] }],
      });
    }
    return this.admin.replay(id, sinceMs, untilMs, body.scope);
  }
}
