import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { Audit } from '../api/audit.interceptor';
import {
  ApiAdminAuth,
  ApiErrorResponse,
  ApiNotFoundError,
  ApiValidationError,
} from '../api/error-response.dto';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { DEFAULT_PAGE_SIZE, ListSubscriptionsQueryDto } from './dto/list-subscriptions-query.dto';
import {
  CreatedSubscriptionResponseDto,
  RotateSecretResponseDto,
  SubscriptionListResponseDto,
  SubscriptionResponseDto,
  SubscriptionSecretResponseDto,
} from './dto/subscription-response.dto';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { presentCreated, presentSubscription } from './subscription.presenter';
import { SubscriptionsService } from './subscriptions.service';

const ID_PARAM = {
  name: 'id',
  description: 'The subscription id',
  example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab',
};
const NOT_FOUND = (): MethodDecorator =>
  ApiNotFoundError('subscription', 'subscription sub_8fJk2LmN0pQrStUvWxYz01Ab not found');

@ApiTags('subscriptions')
@ApiBearerAuth()
@ApiAdminAuth()
@UseGuards(AdminApiKeyGuard)
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create a subscription; the response holds its signing secret.',
    operationId: 'createSubscription',
  })
  @ApiCreatedResponse({ type: CreatedSubscriptionResponseDto, description: 'Created' })
  @ApiValidationError()
  @ApiErrorResponse(
    HttpStatus.CONFLICT,
    'Conflict',
    'MAX_SUBSCRIPTIONS (1000) subscriptions exist already: delete one, or raise the limit',
    'As many subscriptions as MAX_SUBSCRIPTIONS allows exist already',
  )
  @Audit('subscription.create')
  async create(@Body() body: CreateSubscriptionDto): Promise<CreatedSubscriptionResponseDto> {
    return presentCreated(await this.subscriptions.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions, oldest first.', operationId: 'listSubscriptions' })
  @ApiOkResponse({ type: SubscriptionListResponseDto, description: 'One page' })
  @ApiValidationError({ field: 'cursor', problem: 'cursor is not one returned by a previous page' })
  async list(@Query() query: ListSubscriptionsQueryDto): Promise<SubscriptionListResponseDto> {
    const page = await this.subscriptions.list({
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { data: page.data.map(presentSubscription), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One subscription.', operationId: 'getSubscription' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionResponseDto, description: 'The subscription' })
  @NOT_FOUND()
  async get(@Param('id') id: string): Promise<SubscriptionResponseDto> {
    return presentSubscription(await this.subscriptions.get(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change some fields; `enabled: true` turns a disabled subscription back on.',
    operationId: 'updateSubscription',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionResponseDto, description: 'The subscription as stored' })
  @ApiValidationError()
  @NOT_FOUND()
  @Audit('subscription.update')
  async update(
    @Param('id') id: string,
    @Body() body: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    return presentSubscription(await this.subscriptions.update(id, body));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Delete a subscription; its pending deliveries are skipped.',
    operationId: 'deleteSubscription',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @NOT_FOUND()
  @Audit('subscription.delete')
  async delete(@Param('id') id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Replace the signing secret; the previous one keeps signing during the overlap.',
    operationId: 'rotateSubscriptionSecret',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: RotateSecretResponseDto, description: 'The new secret' })
  @NOT_FOUND()
  @Audit('subscription.rotate-secret')
  async rotateSecret(@Param('id') id: string): Promise<RotateSecretResponseDto> {
    const { secret, previousSecretExpiresAt } = await this.subscriptions.rotateSecret(id);
    return { secret, previousSecretExpiresAt };
  }

  @Get(':id/secret')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'The current signing secret, for a customer who lost it.',
    operationId: 'getSubscriptionSecret',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionSecretResponseDto, description: 'The current secret' })
  @NOT_FOUND()
  @Audit('subscription.read-secret')
  async secret(@Param('id') id: string): Promise<SubscriptionSecretResponseDto> {
    return { secret: await this.subscriptions.currentSecret(id) };
  }
}
