import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEnum, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { digitsToNumber, IsIsoTimestamp } from '../../api/validation';
import { DeliveryStatus } from '../delivery.model';

export class ListDeliveriesQueryDto {
  @ApiPropertyOptional({ description: 'Only deliveries of this subscription' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  subscriptionId?: string;

  @ApiPropertyOptional({ enum: DeliveryStatus, enumName: 'DeliveryStatus' })
  @IsOptional()
  @IsEnum(DeliveryStatus)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ description: 'Normalised event type, e.g. call.hangup' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  eventType?: string;

  @ApiPropertyOptional({
    description: 'Only deliveries created at or after this time (ISO-8601)',
    format: 'date-time',
    example: '2026-11-28T00:00:00Z',
  })
  @IsOptional()
  @IsIsoTimestamp()
  since?: string;

  @ApiPropertyOptional({
    description: 'Only deliveries created at or before this time (ISO-8601)',
    format: 'date-time',
    example: '2026-11-28T23:59:59Z',
  })
  @IsOptional()
  @IsIsoTimestamp()
  until?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Transform(digitsToNumber)
  @IsInt()
  @Min(1)
  @Max(100)
  limit = 50;

  @ApiPropertyOptional({ description: '`nextCursor` of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

export class ReplayRequestDto {
  @ApiProperty({
    description: 'Start of the window (ISO-8601)',
    format: 'date-time',
    example: '2026-11-28T00:00:00Z',
  })
  @IsIsoTimestamp()
  since!: string;

  @ApiPropertyOptional({
    description: 'End of the window (ISO-8601); default now',
    format: 'date-time',
    example: '2026-11-28T12:00:00Z',
  })
  @IsOptional()
  @IsIsoTimestamp()
  until?: string;

  @ApiPropertyOptional({
    enum: ['failed', 'all'],
    description:
      '`failed` (when absent): failing and dead deliveries; `all`: every retained event of the window',
  })
  @IsOptional()
  @IsEnum({ failed: 'failed', all: 'all' })
  scope: 'failed' | 'all' = 'failed';
}
