import { Controller, Get, HttpCode } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOperation,
  ApiQuery,
  ApiResponse,
  type ApiResponseOptions,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../api/error-response.dto';
import { WebhookEventDto } from '../events/dto/webhook-event.dto';
import { AUTH_WINDOW_MS, STREAM_PATH } from './stream.gateway';

/** An upgrade the WebSocket server refuses: the status line's reason is the message, in plain text. */
function refusal(status: number, description: string, example: string): ApiResponseOptions {
  return {
    status,
    description,
    content: { 'text/plain': { schema: { type: 'string' }, example } },
  };
}

/** Nest's HttpStatus has no 426. */
const UPGRADE_REQUIRED = 426;

const DESCRIPTION = `A WebSocket of every event as it is ingested (whichever process ingested it):
connect with \`GET ${STREAM_PATH}\` and the upgrade headers. Each message is one event, exactly the
body a webhook would carry (schema WebhookEventDto). Test events are not streamed.

**Auth**: \`Authorization: Bearer <key>\` on the upgrade, where the key is the admin key or one of
STREAM_API_KEYS (which can stream and nothing else). Browsers, which cannot set that header, send
\`{"type":"auth","key":"<key>"}\` as their first message within ${AUTH_WINDOW_MS / 1000} s. A wrong key
on the upgrade is refused with 401; a missing or wrong key by message closes the socket with
4401. Nothing is sent before the key is accepted.

**Resume**: \`since=<event id>\` first sends the retained events after that one, in order, then
continues live, with no gap and no duplicate (reconnect with the id of the last event you
processed). An event no longer retained is refused with 404 (or close 4404 after auth by message).

**Close codes**: 1001 going away (shutdown, or no pong to the previous ping; the server pings every
STREAM_PING_INTERVAL_MS); 1013 too far behind (more than STREAM_MAX_BUFFER_BYTES queued for the
client) or could not catch up: reconnect with \`since\`; 4401 unauthorized; 4404 \`since\` not
retained.`;

/**
 * Documents the stream's handshake in the OpenAPI description, and answers a plain GET (no
 * upgrade) with 426: the upgrade itself never reaches Express (see StreamWsAdapter).
 */
@ApiTags('stream')
@ApiBearerAuth()
@ApiExtraModels(WebhookEventDto)
@Controller()
export class StreamController {
  @Get(STREAM_PATH.slice(1))
  @HttpCode(UPGRADE_REQUIRED)
  @ApiOperation({
    summary: 'Live event stream (WebSocket)',
    operationId: 'openEventStream',
    description: DESCRIPTION,
  })
  @ApiQuery({
    name: 'types',
    required: false,
    description:
      'Comma-separated event-type patterns, as subscriptions take them (call.*, sms.inbound, *). Default *.',
    example: 'call.*,sms.inbound',
  })
  @ApiQuery({
    name: 'since',
    required: false,
    description: 'Resume after this event id (exclusive)',
  })
  @ApiResponse({
    status: 101,
    description: 'Switching Protocols: each WebSocket text message is one event',
    schema: { $ref: getSchemaPath(WebhookEventDto) },
  })
  @ApiResponse(refusal(400, '`types` or `since` is malformed', 'types: "call.*x" is not a pattern'))
  @ApiResponse(refusal(401, 'The key on the upgrade is not valid', 'invalid stream key'))
  @ApiResponse(
    refusal(
      404,
      '`since` names an event that is no longer retained',
      'since: event 128dff9e-5f28-4a3c-9221-ee2593f71289 is not retained any more; connect without since',
    ),
  )
  @ApiResponse({
    status: 426,
    description: 'A plain GET: connect with a WebSocket client',
    type: ErrorResponseDto,
    example: {
      statusCode: UPGRADE_REQUIRED,
      error: 'Upgrade Required',
      message: `connect to ${STREAM_PATH} with a WebSocket client (see /docs)`,
    },
  })
  @ApiResponse(
    refusal(
      503,
      'This process serves STREAM_MAX_CLIENTS already',
      'this process already serves 1000 stream clients',
    ),
  )
  upgradeRequired(): { statusCode: number; error: string; message: string } {
    return {
      statusCode: UPGRADE_REQUIRED,
      error: 'Upgrade Required',
      message: `connect to ${STREAM_PATH} with a WebSocket client (see /docs)`,
    };
  }
}
