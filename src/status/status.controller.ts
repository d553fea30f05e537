import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { ApiAdminAuth } from '../api/error-response.dto';
import { StatusDto } from './dto/status.dto';
import { StatusService } from './status.service';

@ApiTags('status')
@ApiBearerAuth()
@ApiAdminAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/status')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Connection, queues, delivery outcomes of the last hour, subscriptions, quarantine',
    operationId: 'getStatus',
  })
  @ApiOkResponse({ type: StatusDto, description: 'The whole picture, from Redis' })
  get(): Promise<StatusDto> {
    return this.status.status();
  }
}
