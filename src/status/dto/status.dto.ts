import { ApiProperty } from '@nestjs/swagger';

class OpentactSubscriptionsReportDto {
  @ApiProperty({
    enum: ['disabled', 'pending', 'ok', 'failing'],
    description: 'failing: the last attempt to ensure OPENTACT_SUBSCRIBE failed; it is retried',
  })
  state!: string;
  @ApiProperty({ description: 'Consecutive failed attempts' }) failures!: number;
  @ApiProperty({ required: false }) lastError?: string;
}

class ConnectionReportDto {
  @ApiProperty({ description: 'The ingest process (host and pid)' }) instance!: string;
  @ApiProperty({ enum: ['connecting', 'authenticating', 'open', 'closed'] }) state!: string;
  @ApiProperty() authenticated!: boolean;
  @ApiProperty({ required: false, format: 'date-time' }) connectedSince?: string;
  @ApiProperty({ required: false, format: 'date-time' }) lastFrameAt?: string;
  @ApiProperty({ description: 'Reconnections since the process started' }) reconnects!: number;
  @ApiProperty({ description: 'Reading paused because Redis is behind' }) paused!: boolean;
  @ApiProperty({
    required: false,
    description: 'Auth acknowledgements refused and logins rejected since the process started',
  })
  authFailures?: number;
  @ApiProperty({
    required: false,
    description:
      'Why the link is not authenticated: the connect error with the URL (no credentials), the auth refusal, or the login failure',
  })
  lastError?: string;
  @ApiProperty({ required: false, type: OpentactSubscriptionsReportDto })
  opentactSubscriptions?: OpentactSubscriptionsReportDto;
  @ApiProperty({ format: 'date-time' }) reportedAt!: string;
}

class OpentactStatusDto {
  @ApiProperty({
    enum: ['open', 'down', 'unknown'],
    description: 'open: some ingest process is authenticated; unknown: no ingest process reports',
  })
  state!: 'open' | 'down' | 'unknown';
  @ApiProperty({ type: [ConnectionReportDto] }) connections!: ConnectionReportDto[];
}

class OverBudgetDto {
  @ApiProperty({ format: 'date-time', description: 'When held events first exceeded the budget' })
  since!: string;
  @ApiProperty({ format: 'date-time', description: 'The last time they did' }) last!: string;
  @ApiProperty({ description: 'Events evicted while deliveries still waited for them' })
  evicted!: number;
}

class RetentionStatusDto {
  @ApiProperty({ description: "Bytes of the event log's entries (fields and values)" })
  bytes!: number;
  @ApiProperty({ description: 'EVENT_RETENTION_MAX_BYTES' }) budgetBytes!: number;
  @ApiProperty({
    description: 'Deliveries (pending, or failing with a retry scheduled) holding their event',
  })
  heldDeliveries!: number;
  @ApiProperty({
    type: OverBudgetDto,
    nullable: true,
    description:
      'Set while, and 15 minutes after, events deliveries wait for exceeded the byte budget (their deliveries are skipped); null otherwise',
  })
  overBudget!: OverBudgetDto | null;
}

class EventsStatusDto {
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'Ingested, not yet read by the fan-out (null when Redis cannot tell)',
  })
  backlog!: number | null;
  @ApiProperty({ description: 'Read by a worker and not finished' }) inFanOut!: number;
  @ApiProperty({ description: 'Held in the event log (queued, in flight, retained)' })
  retained!: number;
  @ApiProperty({ type: RetentionStatusDto }) retention!: RetentionStatusDto;
}

class OutcomeCountsDto {
  @ApiProperty() success!: number;
  @ApiProperty({ description: 'Failed attempts with another one scheduled' }) retry!: number;
  @ApiProperty({ description: 'Deliveries that gave up' }) dead!: number;
  @ApiProperty({ description: 'Answered 410: the subscription was disabled' }) disabled!: number;
  @ApiProperty({ description: 'Not sent: subscription off or gone, or event evicted' })
  skipped!: number;
}

class MinuteCountsDto {
  @ApiProperty({ format: 'date-time' }) minute!: string;
  @ApiProperty({ type: OutcomeCountsDto }) counts!: OutcomeCountsDto;
}

class DeliveriesStatusDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Jobs of the deliveries queue by state',
    example: { waiting: 0, delayed: 3, active: 0, failed: 1, completed: 0, prioritized: 0 },
  })
  queue!: Record<string, number>;
  @ApiProperty({ type: OutcomeCountsDto, description: 'The last 60 minutes, every worker' })
  lastHour!: OutcomeCountsDto;
  @ApiProperty({ type: [MinuteCountsDto], description: '60 minutes, oldest first' })
  perMinute!: MinuteCountsDto[];
  @ApiProperty({
    description:
      'Skipped deliveries within the retention window (not sent: subscription off or gone, event evicted): GET /v1/deliveries?status=skipped lists them',
  })
  skipped!: number;
}

class SubscriptionsStatusDto {
  @ApiProperty() total!: number;
  @ApiProperty() enabled!: number;
  @ApiProperty() disabled!: number;
  @ApiProperty({ description: 'Enabled, in a run of failed deliveries' }) failing!: number;
}

class QuarantineStatusDto {
  @ApiProperty() total!: number;
}

class RecoveredGapDto {
  @ApiProperty({ format: 'date-time', description: 'The last moment a link was known to receive' })
  gapFrom!: string;
  @ApiProperty({ format: 'date-time', description: 'When the next link authenticated' })
  gapTo!: string;
  @ApiProperty() gapSeconds!: number;
  @ApiProperty({
    description: 'Longer than RECOVERY_MAX_WINDOW_SECONDS: only that much was searched',
  })
  truncated!: boolean;
  @ApiProperty({ enum: ['recovering', 'done', 'failed', 'interrupted'] }) state!: string;
  @ApiProperty({ description: 'SMS and calls read from the searches' }) entities!: number;
  @ApiProperty({ description: 'Events delivered because the WSS had missed them' })
  recovered!: number;
  @ApiProperty({ description: 'Recovered states the WSS had already delivered' })
  duplicates!: number;
  @ApiProperty({ description: 'REST searches made' }) requests!: number;
  @ApiProperty({ description: 'REST searches that failed (each retried)' }) errors!: number;
  @ApiProperty({ required: false }) lastError?: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ required: false, format: 'date-time' }) finishedAt?: string;
  @ApiProperty({ description: 'The ingest process that recovered it' }) instance!: string;
}

class RecoveryStatusDto {
  @ApiProperty({ type: RecoveredGapDto, nullable: true, description: 'null before the first gap' })
  lastGap!: RecoveredGapDto | null;
  @ApiProperty({ description: 'Gaps claimed and not yet recovered' }) openGaps!: number;
}

/** GET /v1/status. */
export class StatusDto {
  @ApiProperty() version!: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
  @ApiProperty({ type: OpentactStatusDto }) opentact!: OpentactStatusDto;
  @ApiProperty({ type: EventsStatusDto }) events!: EventsStatusDto;
  @ApiProperty({ type: DeliveriesStatusDto }) deliveries!: DeliveriesStatusDto;
  @ApiProperty({ type: SubscriptionsStatusDto }) subscriptions!: SubscriptionsStatusDto;
  @ApiProperty({ type: QuarantineStatusDto }) quarantine!: QuarantineStatusDto;
  @ApiProperty({ type: RecoveryStatusDto }) recovery!: RecoveryStatusDto;
}
