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
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../api/admin-api-key.guard';
import { CreateSubscriptionDto } from './dto/create-subscription.dto';
import { DEFAULT_PAGE_SIZE, ListSubscriptionsQueryDto } from './dto/list-subscriptions-query.dto';
import {
  CreatedSubscriptionResponseDto,
  ErrorResponseDto,
  RotateSecretResponseDto,
  SubscriptionListResponseDto,
  SubscriptionResponseDto,
  SubscriptionSecretResponseDto,
  ValidationErrorResponseDto,
} from './dto/subscription-response.dto';
import { UpdateSubscriptionDto } from './dto/update-subscription.dto';
import { presentCreated, presentSubscription } from './subscription.presenter';
import { SubscriptionsService } from './subscriptions.service';

const ID_PARAM = { name: 'id', example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab' };

@ApiTags('subscriptions')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ErrorResponseDto, description: 'Missing or wrong admin API key.' })
@UseGuards(AdminApiKeyGuard)
@Controller('v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create a subscription; the response holds its signing secret.' })
  @ApiCreatedResponse({ type: CreatedSubscriptionResponseDto })
  @ApiBadRequestResponse({ type: ValidationErrorResponseDto })
  async create(@Body() body: CreateSubscriptionDto): Promise<CreatedSubscriptionResponseDto> {
    return presentCreated(await this.subscriptions.create(body));
  }

  @Get()
  @ApiOperation({ summary: 'List subscriptions, oldest first.' })
  @ApiOkResponse({ type: SubscriptionListResponseDto })
  @ApiBadRequestResponse({ type: ValidationErrorResponseDto })
  async list(@Query() query: ListSubscriptionsQueryDto): Promise<SubscriptionListResponseDto> {
    const page = await this.subscriptions.list({
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
    });
    return { data: page.data.map(presentSubscription), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async get(@Param('id') id: string): Promise<SubscriptionResponseDto> {
    return presentSubscription(await this.subscriptions.get(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change some fields; `enabled: true` turns a disabled subscription back on.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionResponseDto })
  @ApiBadRequestResponse({ type: ValidationErrorResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async update(
    @Param('id') id: string,
    @Body() body: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponseDto> {
    return presentSubscription(await this.subscriptions.update(id, body));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async delete(@Param('id') id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Replace the signing secret; the previous one keeps signing during the overlap.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: RotateSecretResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async rotateSecret(@Param('id') id: string): Promise<RotateSecretResponseDto> {
    const { secret, previousSecretExpiresAt } = await this.subscriptions.rotateSecret(id);
    return { secret, previousSecretExpiresAt };
  }

  @Get(':id/secret')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The current signing secret, for a customer who lost it.' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: SubscriptionSecretResponseDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  async secret(@Param('id') id: string): Promise<SubscriptionSecretResponseDto> {
    return { secret: await this.subscriptions.currentSecret(id) };
  }
}
