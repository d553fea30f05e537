import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { type DeliveryAttempt, type DeliveryRecord, DeliveryStatus } from '../delivery.model';

/** Documentation of the records DeliveryAdminService returns; the service builds them. */
export class DeliveryAttemptDto implements DeliveryAttempt {
  @ApiProperty({ type: 'integer', example: 1 })
  attempt!: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-28T09:00:00.120Z' })
  at!: string;

  @ApiProperty({ type: 'integer', example: 84 })
  durationMs!: number;

  @ApiPropertyOptional({ type: 'integer', example: 503, description: 'Absent: no response' })
  statusCode?: number;

  @ApiPropertyOptional({ example: 'connect ECONNREFUSED 203.0.113.7:443' })
  error?: string;

  @ApiPropertyOptional({
    description:
      'Truncated to DELIVERY_MAX_RESPONSE_BYTES for the latest attempt; earlier attempts keep the first 256 characters',
  })
  responseBody?: string;

  @ApiPropertyOptional({ description: 'The body above is not the whole response' })
  responseTruncated?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the next attempt is due' })
  nextAttemptAt?: string;
}

export class DeliveryRecordDto implements DeliveryRecord {
  @ApiProperty({ example: 'd_128dff9e-5f28-4a3c-9221-ee2593f71289~~sub_8fJk2LmN0pQrStUvWxYz01Ab' })
  id!: string;

  @ApiProperty({ example: '128dff9e-5f28-4a3c-9221-ee2593f71289' })
  eventId!: string;

  @ApiProperty({ example: 'call.live' })
  eventType!: string;

  @ApiProperty({ example: 'sub_8fJk2LmN0pQrStUvWxYz01Ab' })
  subscriptionId!: string;

  @ApiProperty({ enum: DeliveryStatus, enumName: 'DeliveryStatus', example: 'failing' })
  status!: DeliveryStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ type: 'integer', example: 2 })
  attemptCount!: number;

  @ApiPropertyOptional({ type: 'integer', example: 503 })
  lastStatusCode?: number;

  @ApiPropertyOptional()
  lastError?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  nextAttemptAt?: string;

  @ApiPropertyOptional({
    type: [DeliveryAttemptDto],
    description: 'Every attempt, oldest first (GET /v1/deliveries/{id} only)',
  })
  attempts?: DeliveryAttemptDto[];
}

export class DeliveryListResponseDto {
  @ApiProperty({ type: [DeliveryRecordDto] })
  data!: DeliveryRecordDto[];

  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next page; absent on the last.' })
  nextCursor?: string;
}

export class TestEventResponseDto {
  @ApiProperty({ example: 'test_4bd2b0f4-3b8e-4b8f-9d0e-4f7d29a1c6e2' })
  eventId!: string;

  @ApiProperty({
    example: 'd_test_4bd2b0f4-3b8e-4b8f-9d0e-4f7d29a1c6e2~~sub_8fJk2LmN0pQrStUvWxYz01Ab',
  })
  deliveryId!: string;
}

export class ReplayResponseDto {
  @ApiProperty({ type: 'integer', example: 12, description: 'Deliveries queued again' })
  replayed!: number;
}
