import { ApiProperty } from '@nestjs/swagger';
import { QuarantineReason } from '../normalized-event';
import type { QuarantinedFrame } from '../quarantine.repository';

/** Documentation of GET /v1/quarantine; QuarantineRepository builds the items. */
export class QuarantinedFrameDto implements QuarantinedFrame {
  @ApiProperty({ example: '1764320400000-0' })
  id!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({ enum: QuarantineReason, enumName: 'QuarantineReason', example: 'not_json' })
  reason!: QuarantineReason;

  @ApiProperty({ example: 'Unexpected token } in JSON at position 17' })
  detail!: string;

  @ApiProperty({ description: 'A binary WebSocket frame' })
  binary!: boolean;

  @ApiProperty({ type: 'integer', description: 'Size of the frame as received, in bytes' })
  size!: number;

  @ApiProperty({ description: 'Only the first bytes of the frame are kept' })
  truncated!: boolean;

  @ApiProperty({ format: 'byte', description: "The frame's (first) bytes, base64" })
  rawBase64!: string;
}

export class QuarantineListResponseDto {
  @ApiProperty({ type: 'integer', description: 'Frames held in quarantine', example: 3 })
  total!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Frames quarantined by reason, since the counts were created',
    example: { not_json: 2, invalid: 1 },
  })
  countsByReason!: Record<string, number>;

  @ApiProperty({ type: [QuarantinedFrameDto], description: 'Newest first' })
  items!: QuarantinedFrameDto[];
}
