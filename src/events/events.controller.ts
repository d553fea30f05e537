import {
  Controller,
  Get,
  InternalServerErrorException,
  NotFoundException,
  Param,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import {
  ApiAdminAuth,
  ApiErrorResponse,
  ApiNotFoundError,
  ApiValidationError,
} from '../api/error-response.dto';
import { QuarantineQueryDto } from './dto/quarantine-query.dto';
import { QuarantineListResponseDto } from './dto/quarantine-response.dto';
import { WebhookEventDto } from './dto/webhook-event.dto';
import { EventLog } from './event-log';
import type { NormalizedEvent } from './normalized-event';
import { QuarantineRepository } from './quarantine.repository';
import { parseWebhookBody } from './webhook-body';

@ApiTags('events')
@ApiBearerAuth()
@ApiAdminAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1')
export class EventsController {
  constructor(
    private readonly log: EventLog,
    private readonly quarantine: QuarantineRepository,
  ) {}

  @Get('events/:id')
  @ApiOperation({
    summary: 'A normalised event (the webhook body), while retained',
    operationId: 'getEvent',
  })
  @ApiParam({
    name: 'id',
    description: 'The event id',
    example: '128dff9e-5f28-4a3c-9221-ee2593f71289',
  })
  @ApiOkResponse({ type: WebhookEventDto, description: 'The event' })
  @ApiNotFoundError(
    'event',
    'event 128dff9e-5f28-4a3c-9221-ee2593f71289 not found (unknown, or older than the retention window)',
  )
  @ApiErrorResponse(
    500,
    'Internal Server Error',
    'event 128dff9e-5f28-4a3c-9221-ee2593f71289 is stored but cannot be read',
    'The stored event is corrupt',
  )
  async getEvent(@Param('id') id: string): Promise<NormalizedEvent> {
    const logged = await this.log.get(id);
    if (!logged) {
      throw new NotFoundException(
        `event ${id} not found (unknown, or older than the retention window)`,
      );
    }
    if (logged.unreadable !== undefined) {
      throw new InternalServerErrorException(`event ${id} is stored but cannot be read`);
    }
    return parseWebhookBody(logged.body);
  }

  @Get('quarantine')
  @ApiOperation({
    summary: 'Frames the ingest side quarantined, newest first, with their raw bytes (base64)',
    operationId: 'listQuarantine',
  })
  @ApiOkResponse({ type: QuarantineListResponseDto, description: 'One page' })
  @ApiValidationError({ field: 'limit', problem: 'limit must not be greater than 500' })
  async listQuarantine(@Query() query: QuarantineQueryDto): Promise<QuarantineListResponseDto> {
    const [page, counts] = await Promise.all([
      this.quarantine.list(query.offset, query.limit),
      this.quarantine.counts(),
    ]);
    return { total: page.total, countsByReason: counts, items: page.items };
  }
}
