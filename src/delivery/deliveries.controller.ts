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
import { QuarantineRepository } from '../events/quarantine.repository';
import type { NormalizedEvent } from '../events/normalized-event';
import { DeliveryAdminService } from './delivery-admin.service';
import type { DeliveryRecord } from './delivery.model';
import {
  ListDeliveriesQueryDto,
  QuarantineQueryDto,
  ReplayRequestDto,
} from './dto/delivery-query.dto';

@ApiTags('deliveries')
@ApiBearerAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/deliveries')
export class DeliveriesController {
  constructor(private readonly admin: DeliveryAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List deliveries, newest first' })
  list(
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<{ data: DeliveryRecord[]; nextCursor?: string }> {
    return this.admin.list(query);
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

@ApiTags('events')
@ApiBearerAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1')
export class EventsController {
  constructor(
    private readonly admin: DeliveryAdminService,
    private readonly quarantine: QuarantineRepository,
  ) {}

  @Get('events/:id')
  @ApiOperation({ summary: 'A normalised event, while retained' })
  getEvent(@Param('id') id: string): Promise<NormalizedEvent> {
    return this.admin.getEvent(id);
  }

  @Get('quarantine')
  @ApiOperation({
    summary: 'Frames the ingest side quarantined, newest first, with their raw bytes (base64)',
  })
  async listQuarantine(@Query() query: QuarantineQueryDto): Promise<unknown> {
    const [page, counts] = await Promise.all([
      this.quarantine.list(query.offset, query.limit),
      this.quarantine.counts(),
    ]);
    return { total: page.total, countsByReason: counts, items: page.items };
  }
}
