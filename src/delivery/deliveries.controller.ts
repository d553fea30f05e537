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
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { DeliveryAdminService } from './delivery-admin.service';
import type { DeliveryRecord } from './delivery.model';
import { RequestValidationError } from '../api/validation';
import { InvalidDeliveryCursorError } from './delivery-record.repository';
import { ListDeliveriesQueryDto, ReplayRequestDto } from './dto/delivery-query.dto';

@ApiTags('deliveries')
@ApiBearerAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly admin: DeliveryAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List deliveries, newest first' })
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
  })
  get(@Param('id') id: string): Promise<DeliveryRecord> {
    return this.admin.get(id);
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send this delivery again now, with a fresh retry schedule' })
  retry(@Param('id') id: string): Promise<DeliveryRecord> {
    return this.admin.retry(id);
  }
}

@ApiTags('subscriptions')
@ApiBearerAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/subscriptions')
export class SubscriptionDeliveriesController {
  constructor(private readonly admin: DeliveryAdminService) {}

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver a synthetic webhook.test event to this subscription' })
  test(@Param('id') id: string): Promise<{ eventId: string; deliveryId: string }> {
    return this.admin.sendTest(id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay failed deliveries, or every retained event, of a time window' })
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
